"""Short lists of function words per language, so theme keywords are content words.

Written for Tillit from common knowledge of each language; not a vendored list.
"""

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """
        a about again all also an and any are as at be
        been but by can could did do does for from get got
        had has have he here how i if in is it its
        just me my no not of on or our out she should
        so still than that the their them then there these they this
        those to too up very was we were what when which who
        will with would you your
        """.split()
    ),
    "da": frozenset(
        """
        ad af alle alt anden at blev blive bliver da de dem
        den denne der deres det dette dig din disse dog du efter
        eller en end er et for fra han hans har havde have
        hende hendes her hos hun hvad hvis hvor i ikke ind jeg
        jer jo kunne man mange med meget men mig min mine mit
        mod ned noget nogle nu når og også om op os over
        på selv sig sin sine sit skal skulle som så sådan thi
        til ud under var vi vil ville vor være været
        """.split()
    ),
    "sv": frozenset(
        """
        alla allt att av blev bli blir blivit de dem den denna
        deras dess dessa det detta dig din dina ditt du där då
        efter ej eller en er era ert ett från för ha hade
        han hans har henne hennes hon honom hur här i icke ingen
        inom inte jag ju kan kunde man med mellan men mig min
        mina mitt mot mycket ni nu när någon något några och om
        oss på samma sedan sig sin sina sitta själv skulle som så
        sådan sådana sådant till under upp ut utan vad var vara varför
        varit varje vars vart vem vi vid vilka vilkas vilken vilket vår
        våra vårt än är åt över
        """.split()
    ),
    "nb": frozenset(
        """
        alle at av bare begge ble blei bli blir blitt både da
        de deg dei deim deira deires dem den denne der dere deres
        det dette di din disse ditt du dykk dykkar då eg ein
        eit eitt eller elles en enn er et ett etter for fordi
        fra før ha hadde han hans har hennar henne hennes her hjå
        ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis
        hvor hvordan hvorfor i ikke ikkje ingen ingi inkje inn inni ja
        jeg kan kom korleis korso kun kunne kva kvar kvarhelst kven kvi
        kvifor man mange me med medan meg meget mellom men mi min
        mine mitt mot mykje ned no noe noen noka noko nokon nokor
        nokre nå når og også om opp oss over på samme seg
        selv si sia sidan siden sin sine sitt sjøl skal skulle slik
        so som somme somt så sånn til um upp ut uten var
        vart varte ved vere verte vi vil ville vore vors vort vår
        være vært å
        """.split()
    ),
    "nl": frozenset(
        """
        aan al alles als altijd andere ben bij daar dan dat de
        der deze die dit doch doen door dus een eens en er
        ge geen geweest haar had heb hebben heeft hem het hier hij
        hoe hun iemand iets ik in is ja je kan kon kunnen
        maar me meer men met mij mijn moet na naar niet niets
        nog nu of om omdat onder ons ook op over reeds te
        tegen toch toen tot u uit uw van veel voor want waren
        was wat werd wezen wie wil worden wordt zal ze zelf zich
        zij zijn zo zonder zou
        """.split()
    ),
}
