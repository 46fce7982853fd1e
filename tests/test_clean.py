"""Tests for index/clean.py: furniture out, the article's own sentences in, verbatim."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.clean import Cleaned, clean_article, detect_language, parse_date  # noqa: E402

ARTICLES = ROOT / "data" / "articles"


def _load(prefix: str) -> str:
    (path,) = ARTICLES.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned() -> dict[str, Cleaned]:
    return {p: clean_article(_load(p)) for p in ("000", "001", "002", "003", "004")}


# Furniture that must never survive into the cleaned text, per file.
FURNITURE = {
    "000": [
        "Spécialiste de la culture pop",
        "Explorateur sympathique",
        "Passionné de voyages hardcore",
        "Fanatique d’alcool",
        "Organisateur.",
    ],
    "001": [
        "www.actusduweb.com",
        "Suivez Actusduweb sur Google News",
        "Google News",
        "Ce site utilise des cookies",
        "cookies",
        "J'accepte",
        "Lire la suite",
    ],
    "002": [
        "Des soldats ukrainiens préparent des obus à charger sur un hélicoptère",
        "le vendredi 18 août 2023",
    ],
    "003": [
        "22.09.2022",
        "Par admin",
        "Zubaida Abdul Jalil",
        "nouvelles de la BBC",
        "•",
        "Kim Jong Un (L) assiste à une réunion",
        "le 25 avril 2019.",
        "Crédit photo",
        "Getty Images",
        "GETTY IMAGES",
        "Légende des photos",
        "Vladimir Poutine et Kim Jong Un se sont rencontrés pour la dernière fois en 2019",
        "premier lot de drones iraniens est déjà arrivé en Russie",
        "(photo d’archive)",
        "Vous pouvez toujours recevoir les principales nouvelles dans le messager",
        "messager",
        "Telegram",
        "Viber",
    ],
    "004": [
        "Articles similaires",
        "commentaires",
        "LAISSER UN COMMENTAIRE",
        "S'il vous plaît entrez votre commentaire!",
        "S'il vous plaît entrez votre nom ici",
        "S'il vous plaît",
        "Publicité",
        "Le plus populaire",
    ],
}

# Real article sentences (first, a middle one, last) that must be kept verbatim.
SENTENCES = {
    "000": [
        "La Russie achète des millions de roquettes et d’obus d’artillerie à Corée du Nord pour soutenir son invasion de l’Ukraine, selon une découverte du renseignement américain récemment déclassifiée.",
        # No final period and unusual punctuation: must not be taken for a caption.
        "La Maison Blanche a déclaré la semaine dernière que la Russie avait rencontré des problèmes techniques avec les drones des séries Mohajer-6 et Shahed, achetés dans le cadre de ce que l’administration Biden dit faire probablement partie d’un plan russe visant à acquérir des centaines de véhicules aériens sans pilote. utilisation. dans le conflit",
        "“Espérons que (les drones) ne sont pas très bien faits et que nos canons anti-aériens les abattent comme tous les autres ennemis (drones).”",
        "En juillet, la Corée du Nord est devenue le seul pays avec la Russie et la Syrie à reconnaître les républiques autoproclamées de Lougansk et de Donetsk, s’alignant davantage sur la Russie dans le conflit ukrainien.",
    ],
    "001": [
        "La Russie achète des millions d’obus d’artillerie et de roquettes à la Corée du Nord, faisant allusion aux problèmes de chaîne d’approvisionnement du Kremlin pour les équipements militaires, a rapporté mardi le New York Times, citant des renseignements américains déclassifiés.",
        "Alors que Moscou a bénéficié de la flambée des prix de l’énergie malgré les sanctions, la capacité de la Russie à acheter des armes et de l’électronique a été gravement entravée par l’Occident.",
        "Tout accord sur les armes avec la Corée du Nord serait une violation des résolutions des Nations Unies.",
    ],
    "002": [
        "Les négociations sur les armements entre la Russie et la Corée du Nord « avancent », a déclaré un responsable de la Maison Blanche.",
        "Il a affirmé que les États-Unis prendraient des mesures en sanctionnant les individus et les entités « travaillant à faciliter les ventes d’armes entre ces deux pays ».",
        "En effet, le département du Trésor américain a imposé en mars des sanctions à un ressortissant slovaque pour avoir tenté de faciliter des transactions d’armes entre Moscou et Pyongyang, qui verraient le leading recevoir des armes et des munitions en échange d’avions commerciaux, de matières premières et de marchandises.",
        "Additionally tôt cette semaine, par exemple, le Pentagone a annoncé un programme d’aide à la sécurité de 250 hundreds of thousands de pounds, qui comprend des capacités avancées de défense aérienne, des obus d’artillerie et du matériel de déminage.",
    ],
    "003": [
        "La Corée du Nord a déclaré qu’elle n’avait jamais fourni d’armes ou de munitions à la Russie et qu’elle n’envisageait pas de le faire.",
        # Contains "commentaire" and non-breaking spaces inside the guillemets.
        "«\u00a0Cela démontre que l’armée russe souffre d’une grave pénurie d’approvisionnement en Ukraine, en partie causée par les restrictions à l’exportation et à l’importation\u00a0», a déclaré l’un des responsables américains dans un commentaire à AR.",
        "Pyongyang a soutenu l’invasion russe de l’Ukraine.",
        "Cependant, selon les renseignements américains, de nombreux drones à destination de Moscou ont eu des problèmes techniques.",
    ],
    "004": [
        "Moscou achète des millions d’obus d’artillerie et de roquettes à la Corée du Nord, selon les services de renseignement américains, selon le New York Times. signalé.",
        "Le Times a cité des responsables du gouvernement américain qui ont déclaré que les achats montraient que les sanctions dirigées par les États-Unis avaient commencé à affecter, réduisant la capacité de la Russie à soutenir son invasion de l’Ukraine, que Moscou a qualifiée d'”opération militaire spéciale”.",
        "Le mois dernier, un responsable américain a déclaré à Reuters que les drones russes fabriqués par l’Iran avaient subi “plusieurs pannes”.",
        "En préparation de ces attaques, les forces ukrainiennes ont attaqué les zones d’approvisionnement russes, y compris celles contenant de l’artillerie et des munitions.",
    ],
}

TITLES = {
    "000": "",
    "001": "La Russie achète des armes nord-coréennes, selon les services secrets américains",
    "002": "",
    "003": "\"Les forces ennemies répandent des rumeurs\": Corée du Nord – sur la fourniture d'armes à la Russie",
    "004": "La Russie achète des munitions à la Corée du Nord, selon les États-Unis",
}


# ----------------------------------------------------------------- corpus files


@pytest.mark.parametrize("prefix", sorted(FURNITURE))
def test_no_furniture_left(cleaned: dict[str, Cleaned], prefix: str) -> None:
    text = cleaned[prefix].text
    for junk in FURNITURE[prefix]:
        assert junk not in text, f"{prefix}: furniture kept: {junk!r}"


@pytest.mark.parametrize("prefix", sorted(SENTENCES))
def test_real_sentences_kept_verbatim(cleaned: dict[str, Cleaned], prefix: str) -> None:
    text = cleaned[prefix].text
    for sentence in SENTENCES[prefix]:
        assert sentence in text, f"{prefix}: sentence lost: {sentence[:60]!r}"
    raw = _load(prefix)
    # Every kept paragraph is raw text (only the line's outer whitespace stripped).
    for para in text.split("\n\n"):
        assert para in raw
    # Nothing dropped is a kept paragraph (a repeated headline equals the kept title).
    for d in cleaned[prefix].dropped:
        if d.reason != "repeated headline":
            assert d.line not in text.split("\n\n")


@pytest.mark.parametrize("prefix", sorted(TITLES))
def test_title(cleaned: dict[str, Cleaned], prefix: str) -> None:
    c = cleaned[prefix]
    assert c.title == TITLES[prefix]
    if c.title:
        assert c.text.split("\n\n")[0] == c.title


@pytest.mark.parametrize("prefix", sorted(TITLES))
def test_lang_fr(cleaned: dict[str, Cleaned], prefix: str) -> None:
    assert cleaned[prefix].metadata["lang"] == "fr"


def test_003_headline_once_and_metadata(cleaned: dict[str, Cleaned]) -> None:
    c = cleaned["003"]
    assert c.text.count(TITLES["003"]) == 1
    repeated = [d for d in c.dropped if d.reason == "repeated headline"]
    assert [(d.line, d.line_no) for d in repeated] == [(TITLES["003"], 3)]
    assert c.metadata["date"] == "2022-09-22"
    assert c.metadata["author"] == "Zubaida Abdul Jalil"
    assert "BBC" in c.metadata["outlet"]


def test_003_subhead_is_its_own_paragraph(cleaned: dict[str, Cleaned]) -> None:
    # "Les derniers alliés" is kept, but never glued to the next sentence.
    assert "\n\nLes derniers alliés\n\n" in cleaned["003"].text


def test_003_keeps_non_breaking_spaces(cleaned: dict[str, Cleaned]) -> None:
    # The raw text has "«" + NBSP + "Nous"; the NBSP must survive as is.
    assert "«\u00a0Nous n’avons jamais exporté" in cleaned["003"].text
    assert "de le faire\u00a0»." in cleaned["003"].text


def test_003_dropped_line_numbers(cleaned: dict[str, Cleaned]) -> None:
    by_no = {d.line_no: d for d in cleaned["003"].dropped}
    assert by_no[11].line == "Crédit photo : Getty Images"
    assert by_no[11].reason == "photo credit"
    assert by_no[6].line == "• Zubaida Abdul Jalil"
    assert by_no[15].reason == "photo caption"
    assert by_no[9].reason == "photo caption"


def test_001_outlet(cleaned: dict[str, Cleaned]) -> None:
    assert cleaned["001"].metadata["outlet"] == "Actusduweb"


def test_000_bio_dropped(cleaned: dict[str, Cleaned]) -> None:
    reasons = {d.line_no: d.reason for d in cleaned["000"].dropped}
    assert reasons == {19: "author bio"}


def test_002_only_the_caption_dropped(cleaned: dict[str, Cleaned]) -> None:
    assert [(d.line_no, d.reason) for d in cleaned["002"].dropped] == [(13, "photo caption")]


def test_windows_line_endings_give_same_result() -> None:
    raw = _load("003")
    a = clean_article(raw)
    b = clean_article(raw.replace("\n", "\r\n"))
    assert a.text == b.text
    assert a.metadata == b.metadata
    assert [(d.line, d.line_no) for d in a.dropped] == [(d.line, d.line_no) for d in b.dropped]
    assert "\r" not in b.text


def test_given_title() -> None:
    raw = _load("003")
    t = TITLES["003"]
    c = clean_article(raw, title=t)
    assert c.title == t
    assert c.text.startswith(t + "\n\n")
    assert c.text.count(t) == 1
    # A given title absent from the raw text is reported but not inserted.
    c2 = clean_article(_load("000"), title="Un autre titre")
    assert c2.title == "Un autre titre"
    assert "Un autre titre" not in c2.text


# ---------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("22.09.2022", "2022-09-22"),
        ("22/09/2022", "2022-09-22"),
        ("22-09-2022", "2022-09-22"),
        ("2022-09-22", "2022-09-22"),
        ("22 septembre 2022", "2022-09-22"),
        ("Publié le jeudi 22 Septembre 2022 à 10h30", "2022-09-22"),
        ("1er août 2023", "2023-08-01"),
        ("le vendredi 18 aout 2023", "2023-08-18"),
        ("22 déc. 2022", "2022-12-22"),
        ("September 22, 2022", "2022-09-22"),
        ("Sept. 22, 2022", "2022-09-22"),
        ("22 September 2022", "2022-09-22"),
        ("09/22/2022", "2022-09-22"),  # impossible day-first, read month-first
        ("22.09.2022 0 Par admin", "2022-09-22"),
    ],
)
def test_parse_date(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["", "pas de date ici", "31.02.2022", "en 2019", "le 45 mai 2022"])
def test_parse_date_none(text: str) -> None:
    assert parse_date(text) is None


# ------------------------------------------------------------ detect_language


def test_detect_language() -> None:
    en = (
        "Russia is buying millions of rockets and artillery shells from North Korea, "
        "according to a newly declassified US intelligence finding. The official said "
        "that the purchases show the Russian military continues to suffer from severe "
        "supply shortages in Ukraine."
    )
    assert detect_language(en) == "en"
    assert detect_language(_load("002")) == "fr"
    assert detect_language("") == ""
    assert detect_language("Kim Jong Un") == ""


# --------------------------------------------------------- English furniture

ENGLISH_ARTICLE = """Russia is buying artillery shells from North Korea, US says\r
\r
By John Smith\r
September 22, 2022\r
\r
Russia is buying millions of rockets and artillery shells from North Korea, according to US intelligence.\r
Share this article\r
Sign up for our newsletter\r
Advertisement\r
The photo released by the agency showed crates of shells being loaded onto a train.\r
\r
Photo: Reuters\r
\r
Advertisement revenue is not what drives the war, the official said.\r
Related articles\r
\r
The official, who spoke on condition of anonymity, said the purchases were a sign of shortages.\r
\r
We use cookies to improve your experience. By continuing to browse, you accept our use of cookies.\r
Read more\r
Leave a comment\r
Please enter your name here\r
"""


def test_english_boilerplate_dropped() -> None:
    c = clean_article(ENGLISH_ARTICLE)
    for junk in [
        "Share this article",
        "Sign up for our newsletter",
        "\nAdvertisement\n",
        "Photo: Reuters",
        "Related articles",
        "We use cookies",
        "Read more",
        "Leave a comment",
        "Please enter your name",
        "By John Smith",
        "September 22, 2022",
    ]:
        assert junk not in c.text, junk
    assert not c.text.startswith("Advertisement\n")
    reasons = {d.line: d.reason for d in c.dropped}
    assert reasons["Share this article"] == "social follow"
    assert reasons["Sign up for our newsletter"] == "messenger/newsletter sign-up"
    assert reasons["Advertisement"] == "advertisement"
    assert reasons["Photo: Reuters"] == "photo credit"
    assert reasons["Related articles"] == "related links"
    assert reasons["We use cookies to improve your experience. By continuing to browse, you accept our use of cookies."] == "cookie notice"
    assert c.title == "Russia is buying artillery shells from North Korea, US says"
    assert c.metadata == {"author": "John Smith", "date": "2022-09-22", "lang": "en"}


def test_real_sentences_with_furniture_words_kept() -> None:
    c = clean_article(ENGLISH_ARTICLE)
    # Real sentences that merely contain "photo" / "advertisement".
    assert "The photo released by the agency showed crates of shells being loaded onto a train." in c.text
    assert "Advertisement revenue is not what drives the war, the official said." in c.text
    assert c.text.split("\n\n")[-1] == (
        "The official, who spoke on condition of anonymity, said the purchases were a sign of shortages."
    )
    fr = clean_article(
        "Le titre de l'article\n\n"
        "Le ministre a refusé tout commentaire sur la photo publiée lundi.\n"
        "Commentaires\n"
        "Des cookies ont été distribués aux soldats, selon le communiqué.\n"
        "Publicité\n"
        "Par ailleurs, la Russie a démenti.\n"
    )
    assert "Le ministre a refusé tout commentaire sur la photo publiée lundi." in fr.text
    assert "Des cookies ont été distribués aux soldats, selon le communiqué." in fr.text
    assert "Par ailleurs, la Russie a démenti." in fr.text
    assert "Commentaires" not in fr.text and "Publicité" not in fr.text


def test_hard_wrapped_lines_joined_not_subheads() -> None:
    c = clean_article(
        "Titre court\n\n"
        "La Russie achète des obus à la Corée du Nord\n"
        "selon les services américains.\n\n"
        "Les derniers alliés\n"
        "Pyongyang a soutenu l'invasion.\n"
    )
    assert (
        "La Russie achète des obus à la Corée du Nord selon les services américains." in c.text
    )
    assert "\n\nLes derniers alliés\n\nPyongyang a soutenu l'invasion." in c.text


def test_non_breaking_space_kept_inside_sentence() -> None:
    c = clean_article("\u00a0Il a dit\u00a0: « non\u00a0».\u00a0\nEt puis il est parti.\n")
    assert c.text == "Il a dit\u00a0: « non\u00a0».\n\nEt puis il est parti."
