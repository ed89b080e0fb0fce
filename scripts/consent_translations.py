# ruff: noqa: E501  (a translation table reads best one message per line)
"""Append the consent area's customer-facing translations to the Babel catalogs (idempotent).

Run once after changing TEXTS: ``python scripts/consent_translations.py``.
"""

from __future__ import annotations

from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "src" / "tillit" / "locale"
# msgid: (da, sv, nb, nl)
TEXTS = {
    "All channels together": (
        "Alle kanaler tilsammen",
        "Alla kanaler tillsammans",
        "Alle kanaler til sammen",
        "Alle kanalen samen",
    ),
    "Allow": ("Tillad", "Tillåt", "Tillat", "Toestaan"),
    "Allowed": ("Tilladt", "Tillåtet", "Tillatt", "Toegestaan"),
    "Allowed, not sent": (
        "Tilladt, ikke sendt",
        "Tillåtet, inte skickat",
        "Tillatt, ikke sendt",
        "Toegestaan, niet verstuurd",
    ),
    "Ask me a short question now and then": (
        "Stil mig et kort spørgsmål en gang imellem",
        "Ställ en kort fråga till mig ibland",
        "Still meg et kort spørsmål av og til",
        "Stel me af en toe een korte vraag",
    ),
    "At most this many messages": (
        "Højst så mange beskeder",
        "Högst så här många meddelanden",
        "Høyst så mange meldinger",
        "Hoogstens zoveel berichten",
    ),
    "Channel": ("Kanal", "Kanal", "Kanal", "Kanaal"),
    "Channels you accept": (
        "Kanaler, du accepterer",
        "Kanaler du godkänner",
        "Kanaler du godtar",
        "Kanalen die je accepteert",
    ),
    "Delete me": ("Slet mig", "Radera mig", "Slett meg", "Verwijder mij"),
    "Do you want to stop receiving these messages?": (
        "Vil du holde op med at modtage disse beskeder?",
        "Vill du sluta få de här meddelandena?",
        "Vil du slutte å motta disse meldingene?",
        "Wil je deze berichten niet meer ontvangen?",
    ),
    "Download my data": (
        "Download mine data",
        "Ladda ner mina uppgifter",
        "Last ned dataene mine",
        "Download mijn gegevens",
    ),
    "From": ("Fra", "Från", "Fra", "Van"),
    "Held back": ("Holdt tilbage", "Stoppat", "Holdt tilbake", "Tegengehouden"),
    "How and when we contact you": (
        "Hvordan og hvornår vi kontakter dig",
        "Hur och när vi kontaktar dig",
        "Hvordan og når vi kontakter deg",
        "Hoe en wanneer we contact met je opnemen",
    ),
    "I understand that deleting my data cannot be undone.": (
        "Jeg forstår, at sletning af mine data ikke kan fortrydes.",
        "Jag förstår att raderingen av mina uppgifter inte kan ångras.",
        "Jeg forstår at sletting av dataene mine ikke kan angres.",
        "Ik begrijp dat het verwijderen van mijn gegevens niet ongedaan kan worden gemaakt.",
    ),
    "Language": ("Sprog", "Språk", "Språk", "Taal"),
    "Messages in the last 90 days": (
        "Beskeder de seneste 90 dage",
        "Meddelanden de senaste 90 dagarna",
        "Meldinger de siste 90 dagene",
        "Berichten van de afgelopen 90 dagen",
    ),
    "Messages we sent or held back, and why": (
        "Beskeder, vi sendte eller holdt tilbage, og hvorfor",
        "Meddelanden vi skickade eller stoppade, och varför",
        "Meldinger vi sendte eller holdt tilbake, og hvorfor",
        "Berichten die we verstuurden of tegenhielden, en waarom",
    ),
    "Name": ("Navn", "Namn", "Navn", "Naam"),
    "Not allowed": ("Ikke tilladt", "Inte tillåtet", "Ikke tillatt", "Niet toegestaan"),
    "Object to all direct marketing": (
        "Gør indsigelse mod al direkte markedsføring",
        "Invänd mot all direktmarknadsföring",
        "Protester mot all direkte markedsføring",
        "Maak bezwaar tegen alle direct marketing",
    ),
    "Other choices": ("Andre valg", "Andra val", "Andre valg", "Andere keuzes"),
    "Outcome": ("Resultat", "Resultat", "Resultat", "Uitkomst"),
    "Pause all messages until": (
        "Sæt alle beskeder på pause indtil",
        "Pausa alla meddelanden till och med",
        "Sett alle meldinger på pause til",
        "Pauzeer alle berichten tot",
    ),
    "Postponed": ("Udsat", "Uppskjutet", "Utsatt", "Uitgesteld"),
    "Preferred channels, first choice first (for example: email, sms)": (
        "Foretrukne kanaler, første valg først (for eksempel: email, sms)",
        "Föredragna kanaler, förstahandsval först (till exempel: email, sms)",
        "Foretrukne kanaler, førstevalg først (for eksempel: email, sms)",
        "Voorkeurskanalen, eerste keuze eerst (bijvoorbeeld: email, sms)",
    ),
    "Preferred language": (
        "Foretrukket sprog",
        "Föredraget språk",
        "Foretrukket språk",
        "Voorkeurstaal",
    ),
    "Quiet hours (no messages between)": (
        "Stille timer (ingen beskeder mellem)",
        "Tysta timmar (inga meddelanden mellan)",
        "Stille timer (ingen meldinger mellom)",
        "Stille uren (geen berichten tussen)",
    ),
    "Save my choices": (
        "Gem mine valg",
        "Spara mina val",
        "Lagre valgene mine",
        "Mijn keuzes opslaan",
    ),
    "Sent": ("Sendt", "Skickat", "Sendt", "Verstuurd"),
    "This link has been withdrawn.": (
        "Dette link er trukket tilbage.",
        "Länken har dragits tillbaka.",
        "Denne lenken er trukket tilbake.",
        "Deze link is ingetrokken.",
    ),
    "This link has expired.": (
        "Dette link er udløbet.",
        "Länken har gått ut.",
        "Denne lenken har utløpt.",
        "Deze link is verlopen.",
    ),
    "This link is not valid.": (
        "Dette link er ikke gyldigt.",
        "Länken är inte giltig.",
        "Denne lenken er ikke gyldig.",
        "Deze link is niet geldig.",
    ),
    "Time zone": ("Tidszone", "Tidszon", "Tidssone", "Tijdzone"),
    "Topics you want to hear about": (
        "Emner, du vil høre om",
        "Ämnen du vill höra om",
        "Emner du vil høre om",
        "Onderwerpen waarover je wilt horen",
    ),
    "Unsubscribe": ("Afmeld", "Avregistrera", "Meld av", "Afmelden"),
    "Until": ("Til", "Till", "Til", "Tot"),
    "We have deleted your data and will not contact you again.": (
        "Vi har slettet dine data og kontakter dig ikke igen.",
        "Vi har raderat dina uppgifter och kontaktar dig inte igen.",
        "Vi har slettet dataene dine og kontakter deg ikke igjen.",
        "We hebben je gegevens verwijderd en nemen geen contact meer met je op.",
    ),
    "We have not sent you anything in the last 90 days.": (
        "Vi har ikke sendt dig noget de seneste 90 dage.",
        "Vi har inte skickat något till dig de senaste 90 dagarna.",
        "Vi har ikke sendt deg noe de siste 90 dagene.",
        "We hebben je de afgelopen 90 dagen niets gestuurd.",
    ),
    "What we know about you": (
        "Det ved vi om dig",
        "Det här vet vi om dig",
        "Dette vet vi om deg",
        "Wat we over je weten",
    ),
    "What you allow us to do": (
        "Det må vi gerne",
        "Det här får vi göra",
        "Dette lar du oss gjøre",
        "Wat je ons toestaat",
    ),
    "What you get in return:": (
        "Hvad du får til gengæld:",
        "Vad du får i gengäld:",
        "Hva du får igjen:",
        "Wat je ervoor terugkrijgt:",
    ),
    "When": ("Hvornår", "När", "Når", "Wanneer"),
    "Why": ("Hvorfor", "Varför", "Hvorfor", "Waarom"),
    "Withdraw": ("Træk tilbage", "Återkalla", "Trekk tilbake", "Intrekken"),
    "You are unsubscribed": (
        "Du er afmeldt",
        "Du är avregistrerad",
        "Du er meldt av",
        "Je bent afgemeld",
    ),
    "You decide what we may do, how often we contact you and on which channels. Every change is kept, and you can change your mind at any time.": (
        "Du bestemmer, hvad vi må, hvor ofte vi kontakter dig og på hvilke kanaler. Alle ændringer gemmes, og du kan altid ombestemme dig.",
        "Du bestämmer vad vi får göra, hur ofta vi kontaktar dig och i vilka kanaler. Varje ändring sparas, och du kan ändra dig när som helst.",
        "Du bestemmer hva vi får gjøre, hvor ofte vi kontakter deg og i hvilke kanaler. Alle endringer lagres, og du kan ombestemme deg når som helst.",
        "Jij bepaalt wat we mogen, hoe vaak we contact opnemen en via welke kanalen. Elke wijziging wordt bewaard en je kunt altijd van gedachten veranderen.",
    ),
    "You will not receive these messages any more.": (
        "Du modtager ikke disse beskeder mere.",
        "Du får inte de här meddelandena längre.",
        "Du mottar ikke disse meldingene lenger.",
        "Je ontvangt deze berichten niet meer.",
    ),
    "Your browser sends a Global Privacy Control signal: we do not share your data with partners unless you say so here.": (
        "Din browser sender et Global Privacy Control-signal: vi deler ikke dine data med partnere, medmindre du siger ja her.",
        "Din webbläsare skickar en Global Privacy Control-signal: vi delar inte dina uppgifter med partner om du inte säger ja här.",
        "Nettleseren din sender et Global Privacy Control-signal: vi deler ikke dataene dine med partnere med mindre du sier ja her.",
        "Je browser stuurt een Global Privacy Control-signaal: we delen je gegevens niet met partners, tenzij je hier ja zegt.",
    ),
    "Your choices are saved.": (
        "Dine valg er gemt.",
        "Dina val är sparade.",
        "Valgene dine er lagret.",
        "Je keuzes zijn opgeslagen.",
    ),
    "Your data has been deleted": (
        "Dine data er slettet",
        "Dina uppgifter har raderats",
        "Dataene dine er slettet",
        "Je gegevens zijn verwijderd",
    ),
    "Your data": ("Dine data", "Dina uppgifter", "Dataene dine", "Je gegevens"),
    "Your relationship with us": (
        "Dit forhold til os",
        "Din relation till oss",
        "Ditt forhold til oss",
        "Jouw relatie met ons",
    ),
    "per": ("pr.", "per", "per", "per"),
    "per day": ("pr. dag", "per dag", "per dag", "per dag"),
    "per week": ("pr. uge", "per vecka", "per uke", "per week"),
    "per month": ("pr. måned", "per månad", "per måned", "per maand"),
    "E-mail": ("E-mail", "E-post", "E-post", "E-mail"),
    "Text message (SMS)": ("SMS", "Sms", "SMS", "Sms"),
    "App notifications": (
        "Notifikationer i appen",
        "Aviseringar från appen",
        "Varsler fra appen",
        "App-meldingen",
    ),
    "Phone calls": ("Telefonopkald", "Telefonsamtal", "Telefonsamtaler", "Telefoongesprekken"),
    "Letters by post": ("Breve med posten", "Brev med posten", "Brev i posten", "Brieven per post"),
    "Social media": ("Sociale medier", "Sociala medier", "Sosiale medier", "Sociale media"),
    "Messages in the app": (
        "Beskeder i appen",
        "Meddelanden i appen",
        "Meldinger i appen",
        "Berichten in de app",
    ),
}
LANGS = ("da", "sv", "nb", "nl")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    for index, language in enumerate((*LANGS, "en")):
        path = LOCALE / language / "LC_MESSAGES" / "messages.po"
        existing = path.read_text(encoding="utf-8")
        added = []
        for msgid, translated in TEXTS.items():
            if f"msgid {_quote(msgid)}\n" in existing:
                continue
            msgstr = "" if language == "en" else translated[index]
            added.append(f"\nmsgid {_quote(msgid)}\nmsgstr {_quote(msgstr)}\n")
        if added:
            path.write_text(existing.rstrip("\n") + "\n" + "".join(added), encoding="utf-8")


if __name__ == "__main__":
    main()
