"""Fictional five-language demo feedback for the demo loader and for tests.

Every comment is invented by the Tillit team for demonstration; none comes from a real
customer, and none is used as evaluation data. ``demo_feedback()`` expands the base
sentences below with greetings and sign-offs into about 480 comments over eight themes,
with NPS scores and timestamps across twelve weeks (late delivery surges at the end, so
trend alerts have something to find).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LOCALES = {"en": "en-GB", "da": "da-DK", "sv": "sv-SE", "nb": "nb-NO", "nl": "nl-NL"}

# theme -> (NPS range, sentences per language)
_BASE: dict[str, tuple[tuple[int, int], dict[str, tuple[str, ...]]]] = {
    "late_delivery": (
        (0, 5),
        {
            "en": (
                "My parcel arrived a week late.",
                "The delivery was delayed again and nobody told me.",
                "Still waiting for my order after ten days.",
                "The courier never showed up on the promised day.",
                "Delivery took far longer than the website said.",
                "My package is lost somewhere in transit.",
            ),
            "da": (
                "Min pakke kom en uge for sent.",
                "Leveringen var forsinket igen, og ingen sagde noget.",
                "Jeg venter stadig på min ordre efter ti dage.",
                "Budet kom aldrig på den lovede dag.",
                "Leveringen tog meget længere tid end lovet.",
                "Min pakke er forsvundet undervejs.",
            ),
            "sv": (
                "Mitt paket kom en vecka för sent.",
                "Leveransen var försenad igen och ingen hörde av sig.",
                "Jag väntar fortfarande på min beställning efter tio dagar.",
                "Budet kom aldrig den utlovade dagen.",
                "Leveransen tog mycket längre tid än utlovat.",
                "Mitt paket har försvunnit på vägen.",
            ),
            "nb": (
                "Pakken min kom en uke for sent.",
                "Leveringen var forsinket igjen, og ingen sa fra.",
                "Jeg venter fortsatt på bestillingen etter ti dager.",
                "Budet kom aldri den lovede dagen.",
                "Leveringen tok mye lengre tid enn lovet.",
                "Pakken min er blitt borte underveis.",
            ),
            "nl": (
                "Mijn pakket kwam een week te laat.",
                "De levering was weer vertraagd en niemand liet iets weten.",
                "Ik wacht na tien dagen nog steeds op mijn bestelling.",
                "De bezorger kwam nooit op de beloofde dag.",
                "De bezorging duurde veel langer dan beloofd.",
                "Mijn pakket is onderweg zoekgeraakt.",
            ),
        },
    ),
    "rude_staff": (
        (0, 4),
        {
            "en": (
                "The shop assistant was rude to me.",
                "Staff rolled their eyes when I asked a question.",
                "The man at the counter was unfriendly and impatient.",
                "I was treated like a nuisance by the staff.",
                "The employee shouted at my elderly mother.",
                "Nobody in the store even said hello.",
            ),
            "da": (
                "Ekspedienten var uhøflig over for mig.",
                "Personalet himlede med øjnene, da jeg spurgte om noget.",
                "Manden ved kassen var uvenlig og utålmodig.",
                "Personalet behandlede mig som en plage.",
                "Medarbejderen råbte ad min gamle mor.",
                "Ingen i butikken sagde engang hej.",
            ),
            "sv": (
                "Expediten var otrevlig mot mig.",
                "Personalen himlade med ögonen när jag ställde en fråga.",
                "Mannen i kassan var ovänlig och otålig.",
                "Personalen behandlade mig som ett besvär.",
                "Den anställda skrek åt min gamla mamma.",
                "Ingen i butiken sa ens hej.",
            ),
            "nb": (
                "Ekspeditøren var uhøflig mot meg.",
                "De ansatte himlet med øynene da jeg spurte om noe.",
                "Mannen i kassen var uvennlig og utålmodig.",
                "De ansatte behandlet meg som et bry.",
                "Den ansatte kjeftet på min gamle mor.",
                "Ingen i butikken sa engang hei.",
            ),
            "nl": (
                "De verkoper was onbeleefd tegen mij.",
                "Het personeel rolde met de ogen toen ik iets vroeg.",
                "De man aan de kassa was onvriendelijk en ongeduldig.",
                "Het personeel behandelde me als een lastpost.",
                "De medewerker schreeuwde tegen mijn oude moeder.",
                "Niemand in de winkel zei zelfs maar hallo.",
            ),
        },
    ),
    "great_service": (
        (9, 10),
        {
            "en": (
                "Fantastic service, the staff went out of their way to help.",
                "Such friendly and helpful people, thank you!",
                "Customer service solved my problem in five minutes.",
                "The staff were kind and really knew their products.",
                "Best service I have had in years.",
                "They called me back and fixed everything, great job.",
            ),
            "da": (
                "Fantastisk service, personalet gjorde alt for at hjælpe.",
                "Så venlige og hjælpsomme folk, tusind tak!",
                "Kundeservice løste mit problem på fem minutter.",
                "Personalet var søde og kendte virkelig deres varer.",
                "Den bedste service, jeg har fået i årevis.",
                "De ringede tilbage og ordnede det hele, flot klaret.",
            ),
            "sv": (
                "Fantastisk service, personalen gjorde allt för att hjälpa.",
                "Så trevliga och hjälpsamma människor, tack!",
                "Kundtjänst löste mitt problem på fem minuter.",
                "Personalen var snälla och kunde verkligen sina varor.",
                "Den bästa service jag fått på flera år.",
                "De ringde tillbaka och fixade allt, jättebra jobbat.",
            ),
            "nb": (
                "Fantastisk service, de ansatte gjorde alt for å hjelpe.",
                "Så vennlige og hjelpsomme folk, tusen takk!",
                "Kundeservice løste problemet mitt på fem minutter.",
                "De ansatte var hyggelige og kunne virkelig varene sine.",
                "Den beste servicen jeg har fått på mange år.",
                "De ringte tilbake og ordnet alt, kjempebra jobbet.",
            ),
            "nl": (
                "Fantastische service, het personeel deed alles om te helpen.",
                "Wat een vriendelijke en behulpzame mensen, bedankt!",
                "De klantenservice loste mijn probleem in vijf minuten op.",
                "Het personeel was aardig en kende hun producten echt.",
                "De beste service die ik in jaren heb gehad.",
                "Ze belden terug en regelden alles, top gedaan.",
            ),
        },
    ),
    "price": (
        (3, 7),
        {
            "en": (
                "Prices have gone up far too much.",
                "Too expensive compared with other shops.",
                "The shipping fee is ridiculous for such a small order.",
                "Good products but the price is too high.",
                "I found the same item much cheaper elsewhere.",
                "The subscription costs more every year.",
            ),
            "da": (
                "Priserne er steget alt for meget.",
                "Alt for dyrt i forhold til andre butikker.",
                "Fragtprisen er latterlig for så lille en ordre.",
                "Gode varer, men prisen er for høj.",
                "Jeg fandt den samme vare meget billigere et andet sted.",
                "Abonnementet koster mere hvert år.",
            ),
            "sv": (
                "Priserna har gått upp alldeles för mycket.",
                "Alldeles för dyrt jämfört med andra butiker.",
                "Fraktavgiften är löjlig för en så liten beställning.",
                "Bra varor men priset är för högt.",
                "Jag hittade samma vara mycket billigare någon annanstans.",
                "Prenumerationen kostar mer varje år.",
            ),
            "nb": (
                "Prisene har gått altfor mye opp.",
                "Altfor dyrt sammenlignet med andre butikker.",
                "Fraktprisen er latterlig for en så liten bestilling.",
                "Gode varer, men prisen er for høy.",
                "Jeg fant den samme varen mye billigere et annet sted.",
                "Abonnementet koster mer hvert år.",
            ),
            "nl": (
                "De prijzen zijn veel te hard gestegen.",
                "Veel te duur vergeleken met andere winkels.",
                "De verzendkosten zijn belachelijk voor zo'n kleine bestelling.",
                "Goede producten maar de prijs is te hoog.",
                "Ik vond hetzelfde artikel elders veel goedkoper.",
                "Het abonnement wordt elk jaar duurder.",
            ),
        },
    ),
    "app_crashes": (
        (0, 5),
        {
            "en": (
                "The app crashes every time I open my basket.",
                "The app keeps freezing at checkout.",
                "After the last update the app will not start.",
                "I cannot log in to the app, it just closes.",
                "The app is slow and crashes constantly.",
                "Payment in the app failed three times.",
            ),
            "da": (
                "Appen crasher hver gang jeg åbner min kurv.",
                "Appen fryser hele tiden ved betalingen.",
                "Efter sidste opdatering vil appen ikke starte.",
                "Jeg kan ikke logge ind i appen, den lukker bare ned.",
                "Appen er langsom og går ned hele tiden.",
                "Betaling i appen fejlede tre gange.",
            ),
            "sv": (
                "Appen kraschar varje gång jag öppnar varukorgen.",
                "Appen fryser hela tiden i kassan.",
                "Efter senaste uppdateringen startar inte appen.",
                "Jag kan inte logga in i appen, den stängs bara.",
                "Appen är långsam och kraschar hela tiden.",
                "Betalningen i appen misslyckades tre gånger.",
            ),
            "nb": (
                "Appen krasjer hver gang jeg åpner handlekurven.",
                "Appen fryser hele tiden i kassen.",
                "Etter siste oppdatering vil ikke appen starte.",
                "Jeg får ikke logget inn i appen, den bare lukker seg.",
                "Appen er treg og krasjer hele tiden.",
                "Betalingen i appen feilet tre ganger.",
            ),
            "nl": (
                "De app crasht elke keer als ik mijn winkelmandje open.",
                "De app blijft hangen bij het afrekenen.",
                "Na de laatste update start de app niet meer.",
                "Ik kan niet inloggen in de app, hij sluit gewoon af.",
                "De app is traag en crasht steeds.",
                "Betalen in de app mislukte drie keer.",
            ),
        },
    ),
    "refund": (
        (0, 6),
        {
            "en": (
                "I returned the item a month ago and still have no refund.",
                "Getting my money back is impossible.",
                "They refused to refund a faulty product.",
                "The refund was smaller than what I paid.",
                "I have emailed three times about my refund without an answer.",
                "Returning a product is far too complicated.",
            ),
            "da": (
                "Jeg returnerede varen for en måned siden og har stadig ikke fået pengene tilbage.",
                "Det er umuligt at få mine penge tilbage.",
                "De nægtede at refundere en defekt vare.",
                "Refusionen var mindre end det, jeg betalte.",
                "Jeg har skrevet tre gange om min refusion uden svar.",
                "Det er alt for besværligt at returnere en vare.",
            ),
            "sv": (
                "Jag returnerade varan för en månad sedan och har fortfarande inte fått pengarna tillbaka.",
                "Det är omöjligt att få tillbaka mina pengar.",
                "De vägrade att återbetala en trasig produkt.",
                "Återbetalningen var mindre än vad jag betalade.",
                "Jag har mejlat tre gånger om min återbetalning utan svar.",
                "Det är alldeles för krångligt att returnera en vara.",
            ),
            "nb": (
                "Jeg returnerte varen for en måned siden og har fortsatt ikke fått pengene tilbake.",
                "Det er umulig å få pengene mine tilbake.",
                "De nektet å refundere et defekt produkt.",
                "Refusjonen var mindre enn det jeg betalte.",
                "Jeg har sendt e-post tre ganger om refusjonen uten svar.",
                "Det er altfor tungvint å returnere en vare.",
            ),
            "nl": (
                "Ik heb het artikel een maand geleden teruggestuurd en nog steeds geen terugbetaling.",
                "Mijn geld terugkrijgen is onmogelijk.",
                "Ze weigerden een defect product terug te betalen.",
                "De terugbetaling was lager dan wat ik betaalde.",
                "Ik heb drie keer gemaild over mijn terugbetaling zonder antwoord.",
                "Een product retourneren is veel te ingewikkeld.",
            ),
        },
    ),
    "product_quality": (
        (2, 7),
        {
            "en": (
                "The jacket fell apart after two washes.",
                "The quality of the shoes is poor.",
                "The blender broke after a week.",
                "The fabric feels cheap and thin.",
                "The product looked nothing like the pictures.",
                "Zip broke the first time I used the bag.",
            ),
            "da": (
                "Jakken gik i stykker efter to vaske.",
                "Kvaliteten af skoene er dårlig.",
                "Blenderen gik i stykker efter en uge.",
                "Stoffet føles billigt og tyndt.",
                "Produktet lignede slet ikke billederne.",
                "Lynlåsen gik i stykker første gang jeg brugte tasken.",
            ),
            "sv": (
                "Jackan gick sönder efter två tvättar.",
                "Kvaliteten på skorna är dålig.",
                "Mixern gick sönder efter en vecka.",
                "Tyget känns billigt och tunt.",
                "Produkten liknade inte alls bilderna.",
                "Blixtlåset gick sönder första gången jag använde väskan.",
            ),
            "nb": (
                "Jakken gikk i stykker etter to vask.",
                "Kvaliteten på skoene er dårlig.",
                "Blenderen ble ødelagt etter en uke.",
                "Stoffet føles billig og tynt.",
                "Produktet lignet ikke i det hele tatt på bildene.",
                "Glidelåsen røk første gang jeg brukte vesken.",
            ),
            "nl": (
                "De jas viel na twee wasbeurten uit elkaar.",
                "De kwaliteit van de schoenen is slecht.",
                "De blender ging na een week kapot.",
                "De stof voelt goedkoop en dun aan.",
                "Het product leek helemaal niet op de foto's.",
                "De rits ging kapot toen ik de tas voor het eerst gebruikte.",
            ),
        },
    ),
    "opening_hours": (
        (4, 8),
        {
            "en": (
                "Please open earlier on Saturdays.",
                "The store closes too early for people who work.",
                "I wish you were open on Sundays.",
                "Opening hours online were wrong and the shop was closed.",
                "Longer opening hours in the evening would help a lot.",
                "The shop was closed at lunchtime without notice.",
            ),
            "da": (
                "Åbn venligst tidligere om lørdagen.",
                "Butikken lukker for tidligt for folk, der arbejder.",
                "Jeg ville ønske, I havde åbent om søndagen.",
                "Åbningstiderne på nettet var forkerte, og butikken var lukket.",
                "Længere åbningstid om aftenen ville hjælpe meget.",
                "Butikken var lukket i frokostpausen uden varsel.",
            ),
            "sv": (
                "Öppna gärna tidigare på lördagar.",
                "Butiken stänger för tidigt för oss som jobbar.",
                "Jag önskar att ni hade öppet på söndagar.",
                "Öppettiderna på nätet var fel och butiken var stängd.",
                "Längre öppettider på kvällen skulle hjälpa mycket.",
                "Butiken var stängd vid lunch utan förvarning.",
            ),
            "nb": (
                "Vær så snill å åpne tidligere på lørdager.",
                "Butikken stenger for tidlig for oss som jobber.",
                "Jeg skulle ønske dere hadde åpent på søndager.",
                "Åpningstidene på nettet var feil, og butikken var stengt.",
                "Lengre åpningstid om kvelden ville hjulpet mye.",
                "Butikken var stengt i lunsjen uten varsel.",
            ),
            "nl": (
                "Ga alsjeblieft eerder open op zaterdag.",
                "De winkel sluit te vroeg voor mensen die werken.",
                "Ik zou willen dat jullie op zondag open waren.",
                "De openingstijden online klopten niet en de winkel was dicht.",
                "Langere openingstijden in de avond zouden veel helpen.",
                "De winkel was zonder aankondiging dicht tijdens de lunch.",
            ),
        },
    ),
}

_OPENERS = {
    "en": ("Hi,", "Honestly,", ""),
    "da": ("Hej,", "Ærligt talt,", ""),
    "sv": ("Hej,", "Ärligt talat,", ""),
    "nb": ("Hei,", "Ærlig talt,", ""),
    "nl": ("Hallo,", "Eerlijk gezegd,", ""),
}


@dataclass(frozen=True)
class DemoComment:
    comment_id: str
    text: str
    language: str
    locale: str
    theme: str
    nps: int
    created_at: datetime


def demo_feedback(*, seed: int = 7, weeks: int = 12) -> list[DemoComment]:
    """About 480 fictional comments; deterministic for a given ``seed``."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, tzinfo=UTC)
    comments: list[DemoComment] = []
    for theme, ((low, high), by_language) in _BASE.items():
        for language, sentences in by_language.items():
            for sentence in sentences:
                for variant in range(2):
                    opener = rng.choice(_OPENERS[language]) if variant else ""
                    text = f"{opener} {sentence[0].lower()}{sentence[1:]}" if opener else sentence
                    # Late delivery is the emerging issue: its comments crowd into the last weeks.
                    week = (
                        rng.randrange(weeks - 2, weeks)
                        if theme == "late_delivery" and variant
                        else rng.randrange(weeks)
                    )
                    created = start + timedelta(weeks=week, hours=rng.randrange(7 * 24))
                    comments.append(
                        DemoComment(
                            f"demo-{len(comments) + 1:04d}",
                            text,
                            language,
                            LOCALES[language],
                            theme,
                            rng.randint(low, high),
                            created,
                        )
                    )
    rng.shuffle(comments)
    return comments
