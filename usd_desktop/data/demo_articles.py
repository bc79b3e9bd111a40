"""Demo knowledge articles: support how-tos of a telecom-style contact centre, in English, Finnish,
Romanian and Chinese.

An article is a topic (password reset, the phone bill, text messages, the router, deliveries,
refunds, roaming...) in one language: a title from the topic's titles, four to seven of the topic's
sentences in a random order and one or two closing sentences, with a product, a device, amounts and
periods filled in. The words are real words with their diacritics (``salasana``, ``sähköposti``,
``parolă``, ``factură``), so full text, misspellings, phonetic matches and prefixes can be searched
for as an agent would. :func:`make_articles` is deterministic for a ``random.Random`` state.
"""

# ruff: noqa: RUF001  (Chinese sentences use full-width punctuation; Finnish times an en dash)

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

#: Language of an article -> how often it is picked.
LANGUAGES = {"en": 45, "fi": 25, "ro": 25, "zh": 5}
PRODUCTS = (
    "Nordline Mobile",
    "Nordline Home 5G",
    "Aurora Fiber 500",
    "Aurora TV",
    "Carpat Mobil Plus",
    "Carpat Net",
    "Baltic Prepaid",
    "Helix Cloud Backup",
    "Lumo Family",
    "Kide Business",
)
DEVICES = ("Zenit X20", "Polar 8 Pro", "Lumo S3", "Kestrel A54", "Orbit Tab 11")
ROUTERS = ("FastLink 300", "HomeBox 6", "FiberGate AX", "Nordline Hub")
AMOUNT = {"en": "€{}", "fi": "{} €", "ro": "{} lei", "zh": "{}元"}


@dataclass(frozen=True)
class Topic:
    key: str
    category: str
    titles: dict[str, tuple[str, ...]]
    sentences: dict[str, tuple[str, ...]]


def _t(key: str, category: str, **texts: tuple[tuple[str, ...], tuple[str, ...]]) -> Topic:
    return Topic(key, category, {k: v[0] for k, v in texts.items()}, {k: v[1] for k, v in texts.items()})


TOPICS: tuple[Topic, ...] = (
    _t(
        "password",
        "account",
        en=(
            (
                "How to reset your password",
                "Forgot your password for {product}?",
                "Changing the password of your {product} account",
                "Password requirements and security tips",
            ),
            (
                "Open the sign-in page of {product} and choose Forgot password.",
                "We send a reset link to the e-mail address or phone number saved in your account.",
                "The link is valid for {hours} hours; after that, request a new one.",
                "A strong password has at least 12 characters and is not used for any other service.",
                "If you do not receive the reset message, check your spam folder and make sure your"
                " contact details are up to date.",
                "After five failed attempts the account is locked for {minutes} minutes.",
                "Customer service can never see your password and will not ask for it.",
            ),
        ),
        fi=(
            (
                "Salasanan vaihtaminen",
                "Unohditko {product}-palvelun salasanan?",
                "Salasanan palauttaminen",
                "Hyvän salasanan vaatimukset",
            ),
            (
                "Avaa {product}-palvelun kirjautumissivu ja valitse Unohditko salasanasi.",
                "Lähetämme palautuslinkin tiliisi tallennettuun sähköpostiosoitteeseen tai puhelinnumeroon.",
                "Linkki on voimassa {hours} tuntia, minkä jälkeen voit tilata uuden.",
                "Hyvässä salasanassa on vähintään 12 merkkiä, eikä sitä käytetä muissa palveluissa.",
                "Jos et saa palautusviestiä, tarkista roskapostikansio ja varmista, että yhteystietosi"
                " ovat ajan tasalla.",
                "Viiden epäonnistuneen yrityksen jälkeen tili lukitaan {minutes} minuutiksi.",
                "Asiakaspalvelu ei näe salasanaasi eikä koskaan kysy sitä.",
            ),
        ),
        ro=(
            (
                "Cum îți resetezi parola",
                "Ai uitat parola pentru {product}?",
                "Schimbarea parolei contului {product}",
                "Cerințe pentru o parolă sigură",
            ),
            (
                "Deschide pagina de autentificare {product} și alege Am uitat parola.",
                "Trimitem un link de resetare la adresa de e-mail sau la numărul de telefon salvat în cont.",
                "Linkul este valabil {hours} ore; după aceea poți solicita unul nou.",
                "O parolă sigură are cel puțin 12 caractere și nu este folosită pentru alte servicii.",
                "Dacă nu primești mesajul de resetare, verifică dosarul de spam și asigură-te că datele"
                " de contact sunt actualizate.",
                "După cinci încercări eșuate, contul este blocat timp de {minutes} minute.",
                "Serviciul clienți nu îți vede parola și nu o va cere niciodată.",
            ),
        ),
        zh=(
            ("如何重置密码", "忘记{product}密码怎么办"),
            (
                "打开{product}登录页面，选择忘记密码。",
                "我们会将重置链接发送到您账户中保存的电子邮箱或手机号码。",
                "链接在{hours}小时内有效。",
                "安全的密码至少包含12个字符。",
                "客服人员不会询问您的密码。",
            ),
        ),
    ),
    _t(
        "bill",
        "billing",
        en=(
            (
                "Why is my phone bill higher than usual?",
                "Understanding your monthly bill",
                "Extra charges on your phone bill",
                "Paying your {product} bill",
            ),
            (
                "Your monthly bill shows the fixed fee of {product} and any usage charges.",
                "Calls to service numbers, roaming and text message payments are charged separately.",
                "The first bill after a change of subscription can include a partial month.",
                "You can see itemised charges in the My Account app under Billing.",
                "If you think a charge is wrong, contact us within {days} days of the due date.",
                "A late payment fee of {amount} is added when the bill is paid after the due date.",
            ),
        ),
        fi=(
            (
                "Miksi puhelinlaskuni on tavallista suurempi?",
                "Kuukausilaskun selitys",
                "Lisämaksut puhelinlaskulla",
                "{product}-laskun maksaminen",
            ),
            (
                "Kuukausilaskussa näkyy {product}-liittymän kuukausimaksu ja käyttömaksut.",
                "Palvelunumeroihin soitetut puhelut, verkkovierailu ja tekstiviestimaksut laskutetaan"
                " erikseen.",
                "Liittymän vaihdon jälkeinen ensimmäinen lasku voi sisältää osakuukauden.",
                "Erittelyn näet Oma tili -sovelluksen Laskut-osiosta.",
                "Jos laskussa on mielestäsi virhe, ota yhteyttä {days} päivän kuluessa eräpäivästä.",
                "Myöhästyneestä maksusta peritään {amount} viivästysmaksu.",
            ),
        ),
        ro=(
            (
                "De ce factura de telefon este mai mare decât de obicei?",
                "Cum să înțelegi factura lunară",
                "Costuri suplimentare pe factura de telefon",
                "Plata facturii {product}",
            ),
            (
                "Factura lunară arată abonamentul {product} și costurile de utilizare.",
                "Apelurile către numere speciale, roamingul și plățile prin SMS sunt taxate separat.",
                "Prima factură după schimbarea abonamentului poate include o lună parțială.",
                "Detaliile costurilor sunt în aplicația Contul meu, la secțiunea Facturi.",
                "Dacă ți se pare că un cost este greșit, contactează-ne în {days} zile de la data scadentă.",
                "Pentru plata întârziată se adaugă o penalitate de {amount}.",
            ),
        ),
        zh=(
            ("为什么我的电话账单比平时高", "了解每月账单"),
            (
                "每月账单显示{product}的月费和使用费用。",
                "漫游和短信付费单独计费。",
                "如对费用有疑问，请在到期日后{days}天内联系我们。",
                "逾期付款将收取{amount}滞纳金。",
            ),
        ),
    ),
    _t(
        "sms",
        "technical",
        en=(
            (
                "I do not receive text messages",
                "Not receiving SMS or verification codes",
                "Text messages arrive late on {device}",
            ),
            (
                "Restart your {device} and check that airplane mode is off.",
                "Make sure the message centre number in the settings is correct.",
                "If the phone's storage is full, new messages cannot be received.",
                "Verification codes from banks may be blocked if you have barred premium messages.",
                "Try the SIM card in another phone to see whether the problem follows the card.",
            ),
        ),
        fi=(
            (
                "En saa tekstiviestejä",
                "Tekstiviestit tai vahvistuskoodit eivät tule perille",
                "Tekstiviestit saapuvat myöhässä",
            ),
            (
                "Käynnistä {device} uudelleen ja tarkista, ettei lentotila ole päällä.",
                "Varmista, että viestikeskuksen numero on asetuksissa oikein.",
                "Jos puhelimen muisti on täynnä, uusia viestejä ei voi vastaanottaa.",
                "Pankkien vahvistuskoodit voivat estyä, jos olet estänyt maksulliset viestit.",
                "Kokeile SIM-korttia toisessa puhelimessa nähdäksesi, seuraako vika korttia.",
            ),
        ),
        ro=(
            (
                "Nu primesc mesaje SMS",
                "Nu primesc SMS-uri sau coduri de verificare",
                "Mesajele SMS ajung cu întârziere",
            ),
            (
                "Repornește {device} și verifică dacă modul avion este dezactivat.",
                "Asigură-te că numărul centrului de mesaje din setări este corect.",
                "Dacă memoria telefonului este plină, mesajele noi nu pot fi primite.",
                "Codurile de verificare de la bănci pot fi blocate dacă ai restricționat mesajele cu"
                " tarif special.",
                "Încearcă cartela SIM în alt telefon pentru a vedea dacă problema ține de cartelă.",
            ),
        ),
    ),
    _t(
        "router",
        "technical",
        en=(
            (
                "Internet connection keeps dropping",
                "Restarting your router",
                "Slow Wi-Fi at home",
                "Setting up the {router} router",
            ),
            (
                "Unplug the {router} for 30 seconds and plug it back in.",
                "Place the router in an open space, away from microwaves and thick walls.",
                "Check the status page for faults in your area before calling us.",
                "Connect a computer with a cable to see whether the problem is in the Wi-Fi or the line.",
                "The indicator light turns green when the connection is ready.",
                "A factory reset restores the Wi-Fi name and password printed on the label.",
            ),
        ),
        fi=(
            (
                "Internetyhteys katkeilee",
                "Reitittimen uudelleenkäynnistys",
                "Hidas WLAN kotona",
                "{router}-reitittimen käyttöönotto",
            ),
            (
                "Irrota {router} sähköverkosta 30 sekunniksi ja kytke se takaisin.",
                "Sijoita reititin avoimeen paikkaan, kauas mikroaaltouunista ja paksuista seinistä.",
                "Tarkista häiriötiedotteet alueeltasi ennen kuin soitat meille.",
                "Yhdistä tietokone kaapelilla nähdäksesi, onko vika langattomassa verkossa vai liittymässä.",
                "Merkkivalo muuttuu vihreäksi, kun yhteys on valmis.",
                "Tehdasasetusten palautus palauttaa tarraan painetun verkon nimen ja salasanan.",
            ),
        ),
        ro=(
            (
                "Conexiunea la internet se întrerupe",
                "Repornirea routerului",
                "Wi-Fi lent acasă",
                "Configurarea routerului {router}",
            ),
            (
                "Scoate routerul {router} din priză timp de 30 de secunde și conectează-l din nou.",
                "Așază routerul într-un loc deschis, departe de cuptorul cu microunde și de pereți groși.",
                "Verifică pagina de stare pentru deranjamente în zona ta înainte să ne suni.",
                "Conectează un calculator prin cablu pentru a vedea dacă problema este la Wi-Fi sau la"
                " linie.",
                "Ledul devine verde când conexiunea este gata.",
                "Resetarea la setările din fabrică restabilește numele și parola rețelei de pe etichetă.",
            ),
        ),
        zh=(
            ("网络连接经常中断", "如何重启路由器"),
            (
                "拔下{router}电源30秒后重新插上。",
                "将路由器放在开阔的位置，远离微波炉和厚墙。",
                "指示灯变绿表示连接已就绪。",
                "恢复出厂设置后，无线网络名称和密码恢复为标签上的内容。",
            ),
        ),
    ),
    _t(
        "delivery",
        "delivery",
        en=(
            ("Tracking your delivery", "My order has not arrived", "Changing the delivery address"),
            (
                "You receive a tracking code by e-mail and text message when the parcel leaves our"
                " warehouse.",
                "Deliveries usually arrive within {days} working days.",
                "If the parcel is not collected within 14 days, it is returned to us.",
                "You can change the pick-up point on the tracking page until the parcel is sorted.",
                "A damaged parcel should be reported to the carrier when you collect it.",
            ),
        ),
        fi=(
            ("Toimituksen seuranta", "Tilaukseni ei ole saapunut", "Toimitusosoitteen muuttaminen"),
            (
                "Saat seurantakoodin sähköpostilla ja tekstiviestillä, kun paketti lähtee varastostamme.",
                "Toimitukset saapuvat yleensä {days} arkipäivän kuluessa.",
                "Jos pakettia ei noudeta 14 päivän kuluessa, se palautuu meille.",
                "Voit vaihtaa noutopisteen seurantasivulla, kunnes paketti on lajiteltu.",
                "Vahingoittuneesta paketista on ilmoitettava kuljetusyhtiölle noudon yhteydessä.",
            ),
        ),
        ro=(
            ("Urmărirea livrării", "Comanda mea nu a sosit", "Schimbarea adresei de livrare"),
            (
                "Primești un cod de urmărire prin e-mail și SMS când coletul pleacă din depozit.",
                "Livrările ajung de obicei în {days} zile lucrătoare.",
                "Dacă coletul nu este ridicat în 14 zile, ne este returnat.",
                "Poți schimba punctul de ridicare pe pagina de urmărire până când coletul este sortat.",
                "Un colet deteriorat trebuie semnalat curierului la ridicare.",
            ),
        ),
    ),
    _t(
        "refund",
        "billing",
        en=(
            ("Requesting a refund", "When will I receive my refund?", "Returning a {device}"),
            (
                "Refunds are paid to the card or account used for the purchase.",
                "You will receive the refund within {days} days after we have received the returned product.",
                "Keep the receipt: it is needed for the refund.",
                "Returned devices must include all accessories and the original packaging.",
                "A refund for an unused subscription period is shown on your next bill.",
            ),
        ),
        fi=(
            ("Hyvityksen pyytäminen", "Milloin saan hyvityksen?", "Laitteen {device} palauttaminen"),
            (
                "Hyvitys maksetaan kortille tai tilille, jolla ostos maksettiin.",
                "Saat hyvityksen {days} päivän kuluessa siitä, kun palautettu tuote on saapunut meille.",
                "Säilytä kuitti, sillä sitä tarvitaan hyvitystä varten.",
                "Palautettavan laitteen mukana on oltava kaikki lisävarusteet ja alkuperäinen pakkaus.",
                "Käyttämättömän liittymäjakson hyvitys näkyy seuraavalla laskullasi.",
            ),
        ),
        ro=(
            ("Solicitarea unei rambursări", "Când primesc rambursarea?", "Returnarea unui {device}"),
            (
                "Rambursările se fac pe cardul sau în contul folosit la cumpărare.",
                "Vei primi rambursarea în {days} zile după ce am primit produsul returnat.",
                "Păstrează chitanța: este necesară pentru rambursare.",
                "Dispozitivele returnate trebuie să aibă toate accesoriile și ambalajul original.",
                "Rambursarea pentru o perioadă neutilizată a abonamentului apare pe factura următoare.",
            ),
        ),
    ),
    _t(
        "address",
        "account",
        en=(
            ("Changing your postal address", "Moving home: move your {product} subscription"),
            (
                "Update your address in the My Account app under Contact details.",
                "Tell us about a move at least {days} days in advance so the broadband connection moves"
                " with you.",
                "Invoices are sent to the new address from the next billing period.",
            ),
        ),
        fi=(
            ("Osoitteenmuutos", "Muutto: siirrä {product}-liittymäsi uuteen kotiin"),
            (
                "Päivitä osoitteesi Oma tili -sovelluksen Yhteystiedot-kohdassa.",
                "Ilmoita muutosta vähintään {days} päivää etukäteen, jotta laajakaista siirtyy mukanasi.",
                "Laskut lähetetään uuteen osoitteeseen seuraavasta laskutuskaudesta alkaen.",
            ),
        ),
        ro=(
            ("Schimbarea adresei poștale", "Te muți? Mută și abonamentul {product}"),
            (
                "Actualizează adresa în aplicația Contul meu, la Date de contact.",
                "Anunță-ne mutarea cu cel puțin {days} zile înainte, ca internetul să se mute odată cu tine.",
                "Facturile sunt trimise la noua adresă începând cu următoarea perioadă de facturare.",
            ),
        ),
    ),
    _t(
        "roaming",
        "billing",
        en=(
            ("Using your phone abroad", "Roaming charges outside the EU"),
            (
                "Inside the EU and EEA you can call, send messages and use data at home prices.",
                "Outside the EU, data is charged per megabyte; turn off data roaming to avoid surprises.",
                "We send a text message when your roaming charges reach {amount}.",
                "Check that roaming is allowed in My Account before you travel.",
            ),
        ),
        fi=(
            ("Puhelimen käyttö ulkomailla", "Verkkovierailun hinnat EU:n ulkopuolella"),
            (
                "EU- ja ETA-maissa voit soittaa, lähettää viestejä ja käyttää dataa kotimaan hinnoin.",
                "EU:n ulkopuolella data laskutetaan megatavuittain; kytke datan verkkovierailu pois"
                " välttääksesi yllätykset.",
                "Lähetämme tekstiviestin, kun verkkovierailumaksusi ylittävät {amount}.",
                "Tarkista ennen matkaa Oma tili -sovelluksesta, että verkkovierailu on sallittu.",
            ),
        ),
        ro=(
            ("Folosirea telefonului în străinătate", "Tarife de roaming în afara UE"),
            (
                "În UE și SEE poți suna, trimite mesaje și folosi date la tarifele de acasă.",
                "În afara UE, datele sunt taxate pe megabyte; dezactivează roamingul de date ca să eviți"
                " surprizele.",
                "Îți trimitem un SMS când costurile de roaming ajung la {amount}.",
                "Verifică în Contul meu că roamingul este permis înainte de călătorie.",
            ),
        ),
    ),
    _t(
        "sim",
        "technical",
        en=(
            ("PIN and PUK codes of your SIM card", "Ordering a new SIM card or eSIM"),
            (
                "The PIN and PUK codes are on the card the SIM came with.",
                "After three wrong PIN codes the SIM is locked and asks for the PUK code.",
                "Ten wrong PUK codes make the SIM card unusable; order a new one in My Account.",
                "An eSIM is activated by scanning the QR code we send by e-mail.",
                "A new SIM card keeps your number and arrives in {days} days.",
            ),
        ),
        fi=(
            ("SIM-kortin PIN- ja PUK-koodit", "Uuden SIM-kortin tai eSIMin tilaaminen"),
            (
                "PIN- ja PUK-koodit ovat kortissa, jonka mukana SIM-kortti toimitettiin.",
                "Kolmen väärän PIN-koodin jälkeen SIM-kortti lukittuu ja kysyy PUK-koodia.",
                "Kymmenen väärää PUK-koodia tekee SIM-kortista käyttökelvottoman; tilaa uusi Oma tili"
                " -sovelluksesta.",
                "eSIM otetaan käyttöön skannaamalla QR-koodi, jonka lähetämme sähköpostilla.",
                "Uusi SIM-kortti säilyttää numerosi ja saapuu {days} päivässä.",
            ),
        ),
        ro=(
            ("Codurile PIN și PUK ale cartelei SIM", "Comandarea unei cartele SIM noi sau eSIM"),
            (
                "Codurile PIN și PUK sunt pe suportul cu care a venit cartela SIM.",
                "După trei coduri PIN greșite, cartela SIM se blochează și cere codul PUK.",
                "Zece coduri PUK greșite fac cartela SIM inutilizabilă; comandă una nouă din Contul meu.",
                "Un eSIM se activează scanând codul QR pe care îl trimitem prin e-mail.",
                "O cartelă SIM nouă își păstrează numărul și ajunge în {days} zile.",
            ),
        ),
    ),
    _t(
        "einvoice",
        "billing",
        en=(
            ("Switching to e-invoice or direct debit",),
            (
                "With an e-invoice the bill arrives straight in your online bank.",
                "Direct debit pays the bill automatically on the due date.",
                "A paper invoice costs {amount} per bill.",
            ),
        ),
        fi=(
            ("E-laskun tai suoramaksun tilaaminen",),
            (
                "E-lasku saapuu suoraan verkkopankkiisi.",
                "Suoramaksu maksaa laskun automaattisesti eräpäivänä.",
                "Paperilaskusta peritään {amount} laskulta.",
            ),
        ),
        ro=(
            ("Activarea facturii electronice sau a debitării directe",),
            (
                "Cu factura electronică, factura ajunge direct în internet banking.",
                "Debitarea directă plătește automat factura la data scadentă.",
                "Factura pe hârtie costă {amount} pe factură.",
            ),
        ),
    ),
    _t(
        "twofactor",
        "account",
        en=(
            ("Two-step verification", "I cannot sign in to {product}"),
            (
                "Two-step verification asks for a code from your phone after the password.",
                "If you changed phones, sign in with a backup code and register the new device.",
                "Codes expire after {minutes} minutes.",
            ),
        ),
        fi=(
            ("Kaksivaiheinen tunnistautuminen", "En pääse kirjautumaan {product}-palveluun"),
            (
                "Kaksivaiheinen tunnistautuminen kysyy salasanan jälkeen koodia puhelimestasi.",
                "Jos vaihdoit puhelinta, kirjaudu varakoodilla ja rekisteröi uusi laite.",
                "Koodit vanhenevat {minutes} minuutissa.",
            ),
        ),
        ro=(
            ("Autentificarea în doi pași", "Nu mă pot autentifica în {product}"),
            (
                "Autentificarea în doi pași cere un cod de pe telefon după parolă.",
                "Dacă ți-ai schimbat telefonul, autentifică-te cu un cod de rezervă și înregistrează"
                " dispozitivul nou.",
                "Codurile expiră după {minutes} minute.",
            ),
        ),
    ),
    _t(
        "cancel",
        "account",
        en=(
            ("Ending your contract", "Notice period of {product}"),
            (
                "A contract without a fixed term can be ended with {days} days' notice.",
                "Fixed-term contracts end on the agreed date; ending them early may cost a fee.",
                "Return rented devices within 14 days after the contract ends.",
            ),
        ),
        fi=(
            ("Sopimuksen irtisanominen", "{product}-sopimuksen irtisanomisaika"),
            (
                "Toistaiseksi voimassa olevan sopimuksen voi irtisanoa {days} päivän irtisanomisajalla.",
                "Määräaikainen sopimus päättyy sovittuna päivänä; ennenaikainen päättäminen voi maksaa.",
                "Palauta vuokralaitteet 14 päivän kuluessa sopimuksen päättymisestä.",
            ),
        ),
        ro=(
            ("Rezilierea contractului", "Perioada de preaviz pentru {product}"),
            (
                "Un contract pe durată nedeterminată poate fi reziliat cu un preaviz de {days} zile.",
                "Contractele pe durată determinată se încheie la data convenită; rezilierea anticipată"
                " poate costa.",
                "Returnează echipamentele închiriate în 14 zile de la încetarea contractului.",
            ),
        ),
    ),
    _t(
        "voicemail",
        "technical",
        en=(
            ("Setting up voicemail",),
            (
                "Call your voicemail and follow the instructions to record a greeting.",
                "Voicemail can tell you about new messages by text message or e-mail.",
                "Turn voicemail off by dialling the code shown in My Account.",
            ),
        ),
        fi=(
            ("Vastaajan käyttöönotto",),
            (
                "Soita vastaajaasi ja äänitä tervehdys ohjeiden mukaan.",
                "Vastaaja voi ilmoittaa uusista viesteistä tekstiviestillä tai sähköpostilla.",
                "Voit poistaa vastaajan käytöstä Oma tili -sovelluksessa näkyvällä koodilla.",
            ),
        ),
        ro=(
            ("Configurarea mesageriei vocale",),
            (
                "Sună la mesageria vocală și urmează instrucțiunile pentru a înregistra un mesaj de"
                " întâmpinare.",
                "Mesageria vocală te poate anunța despre mesaje noi prin SMS sau e-mail.",
                "Dezactivează mesageria vocală formând codul afișat în Contul meu.",
            ),
        ),
    ),
    _t(
        "complaint",
        "complaint",
        en=(
            ("Making a complaint", "How we handle complaints"),
            (
                "Tell us what happened, when, and what you would like us to do.",
                "We answer every complaint within {days} days.",
                "If you are not satisfied with our answer, you can contact the consumer disputes board.",
            ),
        ),
        fi=(
            ("Reklamaation tekeminen", "Näin käsittelemme reklamaatiot"),
            (
                "Kerro, mitä tapahtui, milloin ja mitä toivot meidän tekevän.",
                "Vastaamme jokaiseen reklamaatioon {days} päivän kuluessa.",
                "Jos et ole tyytyväinen vastaukseemme, voit ottaa yhteyttä kuluttajariitalautakuntaan.",
            ),
        ),
        ro=(
            ("Depunerea unei reclamații", "Cum tratăm reclamațiile"),
            (
                "Spune-ne ce s-a întâmplat, când și ce ai dori să facem.",
                "Răspundem la fiecare reclamație în {days} zile.",
                "Dacă nu ești mulțumit de răspuns, te poți adresa autorității pentru protecția"
                " consumatorilor.",
            ),
        ),
    ),
    _t(
        "coverage",
        "technical",
        en=(
            ("Mobile coverage and 5G", "No signal indoors"),
            (
                "Our coverage map shows 4G and 5G coverage at your address.",
                "Thick walls and energy-efficient windows weaken the signal indoors.",
                "Wi-Fi calling lets your {device} make calls over your home Wi-Fi.",
            ),
        ),
        fi=(
            ("Matkapuhelinverkon kuuluvuus ja 5G", "Ei kuuluvuutta sisätiloissa"),
            (
                "Kuuluvuuskartalta näet 4G- ja 5G-verkon kuuluvuuden osoitteessasi.",
                "Paksut seinät ja energiatehokkaat ikkunat heikentävät signaalia sisätiloissa.",
                "WLAN-puheluilla {device} soittaa puhelut kodin langattoman verkon kautta.",
            ),
        ),
        ro=(
            ("Acoperirea rețelei mobile și 5G", "Nu am semnal în interior"),
            (
                "Harta de acoperire arată acoperirea 4G și 5G la adresa ta.",
                "Pereții groși și ferestrele eficiente energetic slăbesc semnalul în interior.",
                "Apelurile prin Wi-Fi permit telefonului {device} să sune prin rețeaua Wi-Fi de acasă.",
            ),
        ),
    ),
    _t(
        "porting",
        "account",
        en=(
            ("Keeping your number when you switch operator",),
            (
                "Your number moves to us in about {days} working days.",
                "Do not end your old subscription yourself; the transfer ends it.",
                "You need the number and the identity of the subscription owner.",
            ),
        ),
        fi=(
            ("Numeron siirto toiselta operaattorilta",),
            (
                "Numerosi siirtyy meille noin {days} arkipäivässä.",
                "Älä irtisano vanhaa liittymää itse, vaan siirto päättää sen.",
                "Tarvitset numeron ja liittymän omistajan henkilötiedot.",
            ),
        ),
        ro=(
            ("Portarea numărului",),
            (
                "Numărul tău trece la noi în aproximativ {days} zile lucrătoare.",
                "Nu rezilia singur vechiul abonament; portarea îl încheie.",
                "Ai nevoie de număr și de datele titularului abonamentului.",
            ),
        ),
    ),
)

CLOSING = {
    "en": (
        "Contact customer service if the problem continues.",
        "Our customer service is open on weekdays from 8 to 18.",
        "You can also chat with us in the My Account app.",
        "This article applies to {product}.",
    ),
    "fi": (
        "Ota yhteyttä asiakaspalveluun, jos ongelma jatkuu.",
        "Asiakaspalvelumme palvelee arkisin klo 8–18.",
        "Voit myös keskustella kanssamme Oma tili -sovelluksen chatissa.",
        "Tämä ohje koskee {product}-palvelua.",
    ),
    "ro": (
        "Contactează serviciul clienți dacă problema persistă.",
        "Serviciul clienți este disponibil în zilele lucrătoare între 8 și 18.",
        "Ne poți scrie și prin chat în aplicația Contul meu.",
        "Acest articol se aplică pentru {product}.",
    ),
    "zh": ("如果问题仍然存在，请联系客服。", "客服工作时间为工作日8点至18点。"),
}

_BY_LANGUAGE = {lang: [t for t in TOPICS if lang in t.titles] for lang in LANGUAGES}
_LANGUAGE_DRAW = [lang for lang, weight in LANGUAGES.items() for _ in range(weight)]


def article_id(rng: random.Random) -> str:
    """A random (version 4) UUID from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_article(rng: random.Random) -> tuple[str, str, str, str]:
    """(title, body, tags, language) of one article."""
    language = _LANGUAGE_DRAW[int(rng.random() * len(_LANGUAGE_DRAW))]
    topics = _BY_LANGUAGE[language]
    topic = topics[int(rng.random() * len(topics))]
    product = PRODUCTS[int(rng.random() * len(PRODUCTS))]
    slots = {
        "product": product,
        "device": DEVICES[int(rng.random() * len(DEVICES))],
        "router": ROUTERS[int(rng.random() * len(ROUTERS))],
        "amount": AMOUNT[language].format(rng.choice((2, 5, 9.9, 10, 15, 50, 100))),
        "days": rng.choice((3, 5, 7, 14, 30)),
        "hours": rng.choice((1, 2, 24, 48)),
        "minutes": rng.choice((15, 30, 60)),
    }
    titles = topic.titles[language]
    title = titles[int(rng.random() * len(titles))].format(**slots)
    sentences = topic.sentences[language]
    chosen = rng.sample(sentences, min(len(sentences), rng.randint(3, 6)))
    chosen += rng.sample(CLOSING[language], rng.randint(1, 2))
    glue = "" if language == "zh" else " "
    body = glue.join(chosen).format(**slots)
    tags = ",".join(dict.fromkeys((topic.category, topic.key, product.lower().replace(" ", "-"))))
    return title, body, tags, language


def make_articles(rng: random.Random, count: int) -> list[tuple[str, str, str, str, str]]:
    """``count`` articles as (id, title, body, tags, language)."""
    out = []
    for _ in range(count):
        id_ = article_id(rng)
        out.append((id_, *make_article(rng)))
    return out
