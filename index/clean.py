"""Article cleaning: strip scraped page furniture, keep the article's own sentences verbatim.

The cleaned ``text`` is what every citation offset points into, so this stage never
rewrites characters inside a kept sentence. It only

- drops whole lines that are page furniture (cookie notices, social follow, comment
  forms, ads, photo credits and captions, sign-ups, bylines, related-article blocks,
  a repeated headline, an author's joke bio),
- strips leading/trailing whitespace of lines (non-breaking spaces *inside* a line
  are kept as they are),
- joins a hard-wrapped line to the previous one with a single space (only when the
  previous line has no terminal punctuation and the next one starts in lowercase),
- joins the kept paragraphs with a blank line.

Every dropped line is reported with a reason and its 1-based raw line number, so a
human can audit the decisions.

Structural rules (besides the pattern table), documented here once:

- Caption label: the line after "Légende des photos," / "Image caption" is a caption.
- Credit line: the line right before "Crédit photo : ..." / "Photo: Reuters" is a
  caption when it looks like a photo description: at most 40 words, one sentence, and
  either a date, a position marker such as "(L)" / "(à gauche)", or no final
  punctuation with more than 6 words. A real paragraph with a final period and none of
  those cues is kept even there.
- Unpunctuated line in the middle of the article: a line with no final punctuation is
  a *sub-head* when it has at most 6 words (kept, as its own paragraph, so it never
  glues to the next sentence) and a *photo caption* when it has 7 to 40 words and is
  a single sentence (dropped). Longer unpunctuated lines are prose that lost its
  period and are kept. The first and last paragraphs are exempt (headline/standfirst,
  truncated ending).
- Trailing furniture: short unpunctuated lines after the last real paragraph
  ("Le plus populaire", "Tags", ...) are dropped.
- Author bio: a last paragraph entirely inside quotes made of at least three very
  short sentence fragments ("Spécialiste de la culture pop. Explorateur sympathique.")
  is dropped.
- Header bylines: short bullet lines before the first long paragraph ("• Jane Doe",
  "• nouvelles de la BBC") are bylines.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["Cleaned", "Dropped", "clean_article", "detect_language", "parse_date"]


@dataclass
class Dropped:
    """One line removed from the raw text.

    Attributes:
        line: the dropped text, verbatim (leading/trailing whitespace stripped).
        reason: short human reason, e.g. "cookie notice", "photo credit".
        line_no: 1-based line number in the raw text.
    """

    line: str
    reason: str
    line_no: int


@dataclass
class Cleaned:
    """The result of :func:`clean_article`.

    Attributes:
        text: kept paragraphs joined by ``"\\n\\n"``; the article's sentences verbatim.
        title: the headline ("" when the first line does not look like one).
        dropped: every removed line with its reason, in raw order.
        metadata: found keys among "date" (ISO), "author", "outlet", "lang".
    """

    text: str
    title: str
    dropped: list[Dropped] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        ("janvier", "janv", "january", "jan"),
        ("février", "fevrier", "févr", "fevr", "fév", "fev", "february", "feb"),
        ("mars", "march", "mar"),
        ("avril", "avr", "april", "apr"),
        ("mai", "may"),
        ("juin", "june", "jun"),
        ("juillet", "juil", "july", "jul"),
        ("août", "aout", "august", "aug"),
        ("septembre", "sept", "september", "sep"),
        ("octobre", "october", "oct"),
        ("novembre", "november", "nov"),
        ("décembre", "decembre", "déc", "dec", "december"),
    ],
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _num

# Longest names first so "septembre" wins over "sept" in the alternation.
_MONTH_RX = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_DAY_RX = r"(?:0?[1-9]|[12]\d|3[01])(?:er|st|nd|rd|th)?"
_YEAR_RX = r"(?:1[89]|2\d)\d\d"

# Each form: (regex, order of the captured groups). The numeric forms are tried
# before the named-month ones; the first valid calendar date in the text wins.
_DATE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b({_YEAR_RX})[-/.](\d{{1,2}})[-/.](\d{{1,2}})\b"), "ymd"),
    (re.compile(rf"\b(\d{{1,2}})[./-](\d{{1,2}})[./-]({_YEAR_RX})\b"), "dmy_numeric"),
    (
        re.compile(rf"\b({_DAY_RX})\.?\s+({_MONTH_RX})\.?,?\s+({_YEAR_RX})\b", re.IGNORECASE),
        "dmy",
    ),
    (
        re.compile(rf"\b({_MONTH_RX})\.?\s+({_DAY_RX}),?\s+({_YEAR_RX})\b", re.IGNORECASE),
        "mdy",
    ),
]
# Same forms, non-capturing, for embedding in the furniture patterns below.
_ANY_DATE_RX = (
    rf"(?:{_YEAR_RX}[-/.]\d{{1,2}}[-/.]\d{{1,2}}"
    rf"|\d{{1,2}}[./-]\d{{1,2}}[./-]{_YEAR_RX}"
    rf"|{_DAY_RX}\.?\s+(?:{_MONTH_RX})\.?,?\s+{_YEAR_RX}"
    rf"|(?:{_MONTH_RX})\.?\s+{_DAY_RX},?\s+{_YEAR_RX})"
)


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _day(token: str) -> int:
    return int(re.match(r"\d+", token).group())  # type: ignore[union-attr]


def parse_date(text: str) -> str | None:
    """Return the first date found in ``text`` as ISO ``YYYY-MM-DD``, or None.

    Understands "22.09.2022", "22/09/2022", "22-09-2022", "2022-09-22",
    "22 septembre 2022", "1er août 2023", "22 Sept. 2022" and "September 22, 2022".
    Numeric day/month is read day-first (European usage); it is read month-first only
    when the day-first reading is impossible ("09/22/2022").
    """
    for rx, order in _DATE_FORMS:
        for m in rx.finditer(text):
            a, b, c = m.groups()
            if order == "ymd":
                iso = _valid(int(a), int(b), int(c))
            elif order == "dmy_numeric":
                iso = _valid(int(c), int(b), int(a)) or _valid(int(c), int(a), int(b))
            elif order == "dmy":
                iso = _valid(int(c), _MONTHS[b.lower()], _day(a))
            else:  # mdy
                iso = _valid(int(c), _MONTHS[a.lower()], _day(b))
            if iso:
                return iso
    return None


# ------------------------------------------------------------------------ language

# Frequent function words that are not also frequent in the other language ("a",
# "on", "as" are left out on purpose).
_STOP_FR = frozenset(
    "le la les de des du un une et est en que qui dans pour pas sur au aux par avec ce "
    "cette ces il elle ils elles sont ont été mais ou se sa son ses leur leurs nous vous "
    "plus selon aussi avait être entre après sans comme".split()
)
_STOP_EN = frozenset(
    "the of and to in is that for with was by at it from are be this have has an not "
    "will said were which their they but been would who its after about more than "
    "also into".split()
)


def detect_language(text: str) -> str:
    """Guess "fr" or "en" by counting stopwords; "" when there is too little evidence."""
    # Elided articles ("l’armée", "d'obus") split at the apostrophe.
    words = re.findall(r"[^\W\d_]+", text.lower())
    fr = sum(w in _STOP_FR for w in words)
    en = sum(w in _STOP_EN for w in words)
    if max(fr, en) < 3:
        return ""
    # Require a clear lead: machine-translated French keeps a few English words.
    if fr >= 1.5 * en:
        return "fr"
    if en >= 1.5 * fr:
        return "en"
    return ""


# ---------------------------------------------------------------- furniture table

# Every pattern must match the WHOLE line (re.fullmatch, case-insensitive), after the
# line is normalised for matching only: NBSP -> space, ’ -> ', runs of spaces
# collapsed. Patterns for long notices are anchored on their known opening phrase and
# end in ".*". Matching whole lines is what keeps real sentences that merely contain
# "photo", "commentaire" or "cookies" safe.
_SOCIAL = (
    r"google news|google actualités|twitter|x|facebook|instagram|linkedin|telegram|"
    r"youtube|tiktok|whatsapp|threads|bluesky|viber|flipboard"
)
# A byline name: 1-4 capitalised words (case-sensitive even inside the
# case-insensitive table, so "By the numbers" stays a sub-head), or a generic account.
_NAME_RX = r"(?-i:[A-ZÀ-ÖØ-Þ][\w.'-]*(?: [A-ZÀ-ÖØ-Þ][\w.'-]*){0,3})"
_GENERIC_AUTHOR_RX = r"admin|administrateur|administrator|la rédaction|rédaction|redaction|staff|editor|webmaster"

FURNITURE_PATTERNS: list[tuple[str, str]] = [
    # reason, pattern
    ("cookie notice", r"(?:ce site|ce site web|notre site|nous) (?:utilis\w*|emploie) (?:des )?(?:cookies|témoins)\b.*"),
    ("cookie notice", r"(?:this|our) (?:web)?site uses cookies\b.*"),
    ("cookie notice", r"we (?:use|value your privacy and use) cookies\b.*"),
    ("cookie notice", r"(?:en poursuivant|by continuing)\b.{0,80}\b(?:cookies|terms)\b.*"),
    ("cookie notice", r"(?:j'accepte|accepter|tout accepter|accept(?: all)?(?: cookies)?|i agree)(?: lire la suite| read more)?"),
    ("site address", r"(?:https?://)?www\.[\w-]+(?:\.[\w-]+)+(?:/\S*)?"),
    ("site address", r"https?://\S+"),
    ("social follow", rf"(?:suivez|suivez-nous|rejoignez-nous|retrouvez-nous|follow|follow us|join us)(?: [\w.-]+){{0,3}} (?:sur|on) (?:{_SOCIAL})[.!]?"),
    ("social follow", r"(?:suivez-nous|follow us)\s*[:!]?"),
    ("social follow", r"(?:share|partager|partagez)(?: (?:this|cet|cette|l')\s?(?:article|story|page|post))?(?: (?:on|sur|via) [\w ]{1,30})?\s*[:!]?"),
    ("social follow", r"(?:tweet|tweeter|e-?mail|imprimer|print|copy link|copier le lien)"),
    ("messenger/newsletter sign-up", rf"vous pouvez (?:toujours |aussi |également )?recevoir .{{0,120}}\b(?:messager|messagerie|{_SOCIAL}|newsletter|lettre d'information)\b.*"),
    ("messenger/newsletter sign-up", r"(?:abonnez-vous|inscrivez-vous|recevez)\b.{0,120}\b(?:newsletter|lettre d'information|alertes?|telegram|viber|whatsapp)\b.*"),
    ("messenger/newsletter sign-up", r"(?:sign up|subscribe|register)(?: now| today)?(?: (?:for|to))? (?:our|the|free)\b.{0,80}\b(?:newsletters?|updates|alerts|briefing|digest)\b.*"),
    ("messenger/newsletter sign-up", r"(?:get|receive) (?:the )?(?:latest|top|breaking) (?:news|stories|headlines)\b.{0,80}\b(?:inbox|newsletter|telegram|whatsapp|app)\b.*"),
    ("comment form", r"(?:\d+ )?(?:commentaires?|comments?|réactions?)\s*:?"),
    ("comment form", r"(?:laisser|laissez|ajouter|écrire|poster) un commentaire\s*[:!]?"),
    ("comment form", r"(?:leave|post|add|write) a (?:comment|reply)\s*[:!]?"),
    ("comment form", r"s'il vous pla[iî]t,? (?:entrez|saisissez|indiquez) votre (?:commentaire|nom|adresse e-?mail|e-?mail|site web)(?: ici)?\s*!?"),
    ("comment form", r"please enter (?:your )?(?:comment|name|e-?mail(?: address)?|website)(?: here)?\s*!?"),
    ("comment form", r"(?:annuler la réponse|cancel reply|répondre|reply|réagir)"),
    ("comment form", r"(?:enregistrer mon nom|save my name).*"),
    ("comment form", r"(?:vous devez être connecté|you must be logged in).{0,80}"),
    ("advertisement", r"(?:publicité|pub|annonce|advertisement|advertising|ad|sponsored|sponsorisé|contenu sponsorisé|sponsored content|partenaire)"),
    ("related links", r"(?:articles? (?:similaires|liés|connexes|recommandés)|sur le même sujet|dans la même rubrique)\s*:?"),
    ("related links", r"(?:à )?lire (?:aussi|également|la suite)\b.{0,200}"),
    ("related links", r"(?:voir aussi|vous aimerez aussi|vous aimerez peut-être aussi|à découvrir|nos recommandations)\b.{0,200}"),
    # A bare "Related" must stand alone (or before a colon): "Related charges were
    # filed ..." is a sentence.
    ("related links", r"related\s*(?::.{0,200})?"),
    ("related links", r"(?:related (?:articles|stories|posts|content|news|topics|coverage)|read (?:more|also|next)|see also|you may also like|recommended for you|more on this story|more stories)\b.{0,200}"),
    ("related links", r"(?:le |la )?(?:plus populaire|plus lus?|les plus (?:lus|populaires|partagés|commentés)|most (?:popular|read|viewed|shared)|trending(?: now)?|à la une|top stories)\s*:?"),
    ("photo credit", r"(?:crédits?|credits?)(?: (?:photos?|images?))?\s*:\s*.{1,100}"),
    ("photo credit", r"(?:photo|photos|image|images|illustration|picture|vidéo|video)(?: credit)?\s*[:©]\s*.{1,100}"),
    ("photo credit", r"©\s*.{1,100}"),
    ("photo credit", r"\(?(?:afp|reuters|ap|getty images|epa|shutterstock|sipa|abaca)(?:\s*/\s*[\w .'-]{1,40})*\)?"),
    ("caption label", r"(?:légende (?:des photos|de la photo|de l'image|photo)|légende|image caption|media caption|photo caption|caption)\s*[,:]?"),
    ("byline", rf"(?:{_ANY_DATE_RX}\s*(?:\d+\s*)?)?(?:par|by) (?:{_NAME_RX}|{_GENERIC_AUTHOR_RX})(?:\s*[,|/-]\s*{_NAME_RX})?(?:\s*[,|-]?\s*{_ANY_DATE_RX})?"),
    ("byline", rf"{_ANY_DATE_RX}\s*(?:\d+\s*)?(?:par|by) .{{1,60}}"),
    ("dateline", rf"(?:(?:publié|mis à jour|modifié|posted|published|updated)(?: le| on)?\s*:?\s*)?(?:[a-zé]+\.?,? )?{_ANY_DATE_RX}(?:,?\s*(?:à|at)?\s*\d{{1,2}}\s*[h:]\s*\d{{0,2}}(?:\s*(?:am|pm|gmt|utc|cet|cest))?)?"),
    ("reading time", r"(?:temps de lecture\s*:?\s*)?\d+\s*(?:min(?:utes?)?|mn)(?: de lecture| read| reading)?"),
    ("breadcrumb", r"(?:accueil|home)\s*[>›»/].{0,150}"),
]

_COMPILED = [(reason, re.compile(rx, re.IGNORECASE)) for reason, rx in FURNITURE_PATTERNS]
# A byline pattern above is deliberately broad ("Par Jane Doe"); this guard keeps it
# to short lines so that "Par ailleurs, la Russie a ..." can never match.
_MAX_BYLINE_WORDS = 8


def _norm(line: str) -> str:
    """Normalise a line for matching only (never for output)."""
    s = unicodedata.normalize("NFC", line)
    s = s.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    s = s.replace("’", "'").replace("‘", "'").replace("`", "'")
    return re.sub(r"\s+", " ", s).strip()


def _match_furniture(line: str) -> str | None:
    s = _norm(line)
    for reason, rx in _COMPILED:
        if rx.fullmatch(s):
            if reason == "byline" and len(s.split()) > _MAX_BYLINE_WORDS:
                continue
            return reason
    return None


# -------------------------------------------------------------- structural helpers

_CLOSERS = "\"'”’»)]}*_ "
_TERMINAL = ".!?…:;"
_BULLET = re.compile(r"^[•·▪‣◦●\-–*]\s+")
# A sentence boundary inside a line: punctuation, space, then something.
_INNER_BOUNDARY = re.compile(r"[.!?…][\"”»’)]*\s+\S")
_POSITION_MARK = re.compile(
    r"\((?:l|r|c|g|d|à gauche|à droite|au centre|left|right|centre|center|photo[^)]*)\)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^[\"“«„]\s*(.+?)\s*[\"”»]$", re.DOTALL)
_GENERIC_AUTHORS = {
    "admin", "administrator", "administrateur", "rédaction", "la rédaction", "redaction",
    "staff", "editor", "editorial", "webmaster", "auteur", "author", "invité", "guest",
}


def _words(s: str) -> int:
    return len(s.split())


def _has_terminal(s: str) -> bool:
    t = s.rstrip(_CLOSERS + "\u00a0")
    return bool(t) and t[-1] in _TERMINAL


def _looks_like_headline(s: str) -> bool:
    # Headlines are short and do not end with a period (a question or exclamation is
    # fine); a first line ending in "." is a lede/standfirst and stays prose.
    t = s.rstrip(_CLOSERS + "\u00a0")
    return 0 < _words(s) <= 30 and len(s) <= 250 and not t.endswith((".", ":", ";", ","))


def _same_text(a: str, b: str) -> bool:
    strip = "\"'«»“”.!?:;, "
    return _norm(a).casefold().strip(strip) == _norm(b).casefold().strip(strip)


def _is_caption_like(s: str) -> bool:
    """A photo description: one sentence of at most 40 words with a caption cue."""
    if _words(s) > 40 or _INNER_BOUNDARY.search(s.rstrip(_CLOSERS + ".")):
        return False
    if _POSITION_MARK.search(s) or parse_date(s):
        return True
    return not _has_terminal(s) and _words(s) > 6


def _is_bio(s: str) -> bool:
    m = _QUOTED.match(s)
    if not m:
        return False
    fragments = [f for f in re.split(r"[.!?…]+", m.group(1)) if f.strip()]
    return len(fragments) >= 3 and max(_words(f) for f in fragments) <= 5


def _outlet_from_domain(line: str) -> str:
    m = re.search(r"(?:www\.)?([\w-]+)\.[a-z]{2,}(?:\.[a-z]{2})?(?:/|$)", _norm(line).lower())
    return m.group(1).capitalize() if m else ""


@dataclass
class _Line:
    no: int  # 1-based raw line number
    text: str  # stripped, verbatim
    reason: str | None = None
    block: int = 0  # index of the blank-line-separated block


# -------------------------------------------------------------------------- main


def clean_article(raw: str, *, title: str | None = None) -> Cleaned:
    """Clean one scraped article.

    Args:
        raw: the raw article text (any line endings).
        title: the known headline, if the caller has one. When given it becomes
            ``Cleaned.title``; when it also appears in the raw text its first
            occurrence is kept as a paragraph and later copies are dropped.

    Returns:
        A :class:`Cleaned` with the text, title, dropped lines and metadata.
    """
    raw = raw.lstrip("\ufeff")
    lines: list[_Line] = []
    block = 0
    for no, rawline in enumerate(raw.splitlines(), start=1):
        text = rawline.strip()
        if not text:
            block += 1
            continue
        lines.append(_Line(no, text, _match_furniture(text), block))

    # --- title: given, or the first non-furniture line when it looks like one.
    kept = [ln for ln in lines if ln.reason is None]
    title_line: _Line | None = None
    if title is not None:
        found_title = title.strip()
        title_line = next((ln for ln in kept if _same_text(ln.text, found_title)), None)
    elif len(kept) > 1 and _looks_like_headline(kept[0].text):
        title_line = kept[0]
        found_title = kept[0].text
    else:
        found_title = ""
    if found_title:
        for ln in kept:
            if ln is not title_line and _same_text(ln.text, found_title):
                ln.reason = "repeated headline"

    # --- header bylines: short bullets before the first long paragraph.
    for ln in lines:
        if ln.reason is None and ln is not title_line and _words(ln.text) >= 15:
            break
        if ln.reason is None and _BULLET.match(ln.text) and _words(ln.text) <= 6:
            ln.reason = "byline"

    # --- captions around credit lines and caption labels.
    for i, ln in enumerate(lines):
        if ln.reason == "caption label":
            nxt = next((x for x in lines[i + 1 :] if x.reason is None), None)
            if nxt is not None and nxt is not title_line and _words(nxt.text) <= 60:
                nxt.reason = "photo caption"
        elif ln.reason == "photo credit":
            prev = next((x for x in reversed(lines[:i]) if x.reason is None), None)
            if prev is not None and prev is not title_line and _is_caption_like(prev.text):
                prev.reason = "photo caption"

    # --- paragraphs: consecutive kept lines of one block, joined only when the
    # second is a hard-wrapped continuation (so sub-heads never glue to prose).
    paras: list[list[_Line]] = []
    prev_kept: _Line | None = None
    for ln in lines:
        if ln.reason is not None:
            prev_kept = None  # a dropped line in between breaks the paragraph
            continue
        if (
            prev_kept is not None
            and prev_kept.block == ln.block
            and prev_kept is not title_line
            and not _has_terminal(prev_kept.text)
            and ln.text[:1].islower()
        ):
            paras[-1].append(ln)
        else:
            paras.append([ln])
        prev_kept = ln

    def ptext(p: list[_Line]) -> str:
        return " ".join(x.text for x in p)

    def drop(p: list[_Line], reason: str) -> None:
        for x in p:
            x.reason = reason

    # --- tail: trailing short unpunctuated lines and a quoted joke bio.
    while paras:
        last = paras[-1]
        s = ptext(last)
        if title_line in last:
            break
        if not _has_terminal(s) and _words(s) <= 6:
            drop(last, "trailing furniture")
        elif _is_bio(s):
            drop(last, "author bio")
        else:
            break
        paras.pop()

    # --- unpunctuated lines in the middle: sub-head (kept) or photo caption (dropped).
    body = [p for p in paras if title_line not in p]
    for p in body[1:-1]:
        s = ptext(p)
        if not _has_terminal(s) and 6 < _words(s) <= 40 and _is_caption_like(s):
            drop(p, "photo caption")
    paras = [p for p in paras if p[0].reason is None]

    text = "\n\n".join(ptext(p) for p in paras)
    dropped = [Dropped(ln.text, ln.reason, ln.no) for ln in lines if ln.reason is not None]
    metadata = _metadata(dropped)
    lang = detect_language(text)
    if lang:
        metadata["lang"] = lang
    return Cleaned(text=text, title=found_title, dropped=dropped, metadata=metadata)


def _metadata(dropped: list[Dropped]) -> dict[str, str]:
    """Date, author and outlet, read only from furniture lines (never from the body:
    a date in a photo caption or a quote is not the publication date)."""
    meta: dict[str, str] = {}
    outlets: dict[int, str] = {}  # priority -> outlet
    for d in dropped:
        s = _norm(d.line)
        if d.reason in ("byline", "dateline") and "date" not in meta:
            iso = parse_date(s)
            if iso:
                meta["date"] = iso
        if d.reason == "byline":
            body = _BULLET.sub("", s)
            m = re.search(r"\b(?:nouvelles|informations|actualités|infos)\s+(?:de la|de l'|du|des|de)\s*(.+)$", body, re.I)
            m = m or re.match(r"^(.+?)\s+(?:news|nouvelles|info)$", body, re.I)
            if m:
                outlets.setdefault(0, m.group(1).strip())
                continue
            m = re.search(r"\b(?:par|by)\s+(.+)$", body, re.I)
            name = m.group(1) if m else (body if _BULLET.match(s) else "")
            name = re.split(r"\s*[,|]\s*|\s+-\s+", name)[0].strip()
            if (
                name
                and "author" not in meta
                and name.casefold() not in _GENERIC_AUTHORS
                and re.fullmatch(r"[^\W\d_][\w.'-]*(?: [^\W\d_][\w.'-]*){0,4}", name)
                and name[0].isupper()
            ):
                meta["author"] = name
        elif d.reason == "social follow":
            m = re.match(r"(?:suivez|follow|rejoignez|retrouvez)\s+(?!nous\b|us\b)(.+?)\s+(?:sur|on)\s", s, re.I)
            if m:
                outlets.setdefault(1, m.group(1).strip())
        elif d.reason == "site address":
            name = _outlet_from_domain(s)
            if name:
                outlets.setdefault(2, name)
    if outlets:
        meta["outlet"] = outlets[min(outlets)]
    return meta
