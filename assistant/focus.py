"""The words a question turns on, and whether a sentence contains them.

Entity coverage (coverage.py) checks the names; this module handles the other content
words ("buying", "health", "soldiers", "abattus"). English words are mapped to French
forms through ``prompts/vocabulary_en_fr.tsv`` (general news vocabulary); every word
also matches itself by its stem, so French questions and cognates ("sanctions",
"drones") need no table. A word matches at a word start: "achet" finds "achète".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from assistant.coverage import question_entities
from assistant.lexical import STOPWORDS, fold

_DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "prompts" / "vocabulary_en_fr.tsv"
_WORD = re.compile(r"[\w]+(?:-[\w]+)*")
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'")
_INVERSION = re.compile(r"(?:-t)?-(?:il|elle|ils|elles|on)$")  # "donne-t-il" -> "donne"
# Words that frame the question rather than name its content: they are never looked
# for in the evidence.
_FRAME = set(
    """according article articles say said says tell told think know mean means stand
    exactly actually really still already also ever now then here there else besides
    one ones thing things way kind kinds type types sort happen happened happens
    selon article articles dire dit disent fait faire font sait savoir chose choses facon
    type types sorte genre exactement vraiment encore deja aussi ensuite alors ici
    arrive arrivee ete etait etaient sera seront serait avoir avait avaient
    quel quelle quels quelles comment pourquoi combien quand qui que quoi
    dont lequel laquelle lesquels lesquelles ceux celles celui celle cela ceci ca
    when where why how many much what which who whom whose
    est-il est-elle sont-ils sont-elles a-t-il a-t-elle ont-ils ont-elles
    s'est-il s'est-elle doit doivent peut peuvent pourrait pourraient
    contre malgre entre sous sans vers between under through regarding despite against
    toward towards without within""".split()
)


@dataclass(frozen=True)
class Term:
    word: str  # the folded question word
    forms: tuple[str, ...]  # prefixes looked for at word starts ("$" = whole word)
    weight: float = 1.0


@lru_cache(maxsize=4)
def _vocabulary(path: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    p = Path(path)
    if not p.exists():
        return table
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            en, alts = line.split("\t", 1)
            table[en.strip()] = tuple(a.strip() for a in alts.split("|") if a.strip())
    return table


def _bases(word: str) -> list[str]:
    """English base forms of a word: "buying" -> "buy", "soldiers" -> "soldier"."""
    out = [word]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # "shipped" -> "ship"
    if word.endswith("'s"):
        out.append(word[:-2])
    return out


def _stem(word: str) -> str:
    # "abattus" -> "abatt", "devenue" -> "deven": enough to find the other inflections.
    return word[: len(word) - 2] if len(word) >= 6 else word


def content_terms(question: str, table_path: Path | None = None) -> list[Term]:
    """The question's content words (not names, not question or framing words)."""
    table = _vocabulary(str(table_path or _DEFAULT_TABLE))
    names = set(question_entities(question.replace("–", " ")))
    folded = fold(question).replace("–", " ")
    words = [_INVERSION.sub("", _ELISION.sub("", w)) for w in _WORD.findall(folded)]
    terms: list[Term] = []
    seen: set[str] = set()
    i = 0
    while i < len(words):
        w = words[i]
        pair = f"{w} {words[i + 1]}" if i + 1 < len(words) else ""
        if pair and pair in table:
            # Two-word entries first ("prime minister", "raw material").
            terms.append(Term(pair, table[pair]))
            seen.add(pair)
            i += 2
            continue
        i += 1
        if (len(w) < 3 or w.isdigit() or w in STOPWORDS or w in _FRAME or w in seen
                or w in names or w.rstrip("s") in names):
            continue
        seen.add(w)
        forms: list[str] = []
        for base in _bases(w):
            forms.extend(table.get(base, ()))
        forms.append(_stem(w))
        terms.append(Term(w, tuple(dict.fromkeys(forms))))
    return terms


@lru_cache(maxsize=4096)
def _pattern(form: str) -> re.Pattern[str]:
    if form.endswith("$"):
        return re.compile(rf"(?<![\w]){re.escape(form[:-1])}(?![\w])")
    return re.compile(rf"(?<![\w]){re.escape(form)}")


def found(term: Term, folded_text: str) -> bool:
    return any(_pattern(f).search(folded_text) for f in term.forms)


def coverage(terms: list[Term], text: str) -> float:
    """Weighted share of the terms found in ``text`` (1.0 when there are none)."""
    if not terms:
        return 1.0
    f = fold(text)
    return sum(t.weight for t in terms if found(t, f)) / sum(t.weight for t in terms)


def name_terms(question: str) -> list[Term]:
    """The question's names as terms (forms from the entities table), for scoring: a
    sentence naming what the question names is closer to it ("Who is John Kirby?")."""
    from assistant.coverage import _DEFAULT_TABLE as ENTITIES, _entities_table, _forms

    table = _entities_table(str(ENTITIES))
    return [Term(e, tuple(_forms(e, table))) for e in question_entities(question.replace("–", " "))]


def followup_terms(question: str, resolved: str) -> list[Term]:
    """A follow-up's own words say what is asked now ("Who did it blame?"); the words of
    the earlier question it carries ("...the defence ministry") only say about what, and
    count half."""
    own = content_terms(question)
    if resolved == question:
        return own
    mine = {t.word for t in own}
    return own + [replace(t, weight=0.5) for t in content_terms(resolved) if t.word not in mine]


def checkable(terms: list[Term], lexical) -> list[Term]:  # type: ignore[no-untyped-def]
    """The terms whose absence from a sentence means something: translated by the
    vocabulary table, or found somewhere in the archive. An English word the table does
    not know could be written any way in French: it is not held against a sentence."""
    table = _vocabulary(str(_DEFAULT_TABLE))
    out = []
    for t in terms:
        if len(t.forms) > 1 or t.word in table or any(
            lexical.has_prefix(f) for f in t.forms if not f.endswith("$") and " " not in f
        ):
            out.append(t)
    return out


# A "when" question's own time words ("Quel jour...", "When did they last meet") name
# the answer's type, not the event: the event is what the dated sentence must mention.
_TIME_WORDS = set(
    """day days date dates year years month months week weeks time times moment last first
    latest recent recently jour jours annee annees mois semaine semaines temps heure
    dernier derniere premier premiere recemment""".split()
)


def event_terms(terms: list[Term], kind: str) -> list[Term]:
    if kind != "time":
        return terms
    return [t for t in terms if t.word not in _TIME_WORDS]


_COUNTED = re.compile(r"\b(?:how many|how much(?: more| less)?|combien(?: de| d'|de| d)?)\s*")


def counted(question: str, terms: list[Term]) -> Term | None:
    """What a "how many" question counts: its first content word after "how many"."""
    f = fold(question)
    m = _COUNTED.search(f)
    if not m:
        return None
    for t in terms:
        if " " not in t.word and re.search(rf"(?<![\w]){re.escape(t.word)}(?![\w])", f[m.end():]):
            return t
    return None


_QUANTITY = (
    r"(?:\d+(?:[.,]\d+)?|millions?|milliards?|milliers|centaines|dizaines|douzaines|hundreds|"
    r"thousands|millions|billions|dozens|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|"
    r"douze|vingt|cent|mille|two|three|four|five|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand)"
)


def quantity_of(term: Term, text: str) -> bool:
    """Does the text give a quantity of the counted thing ("11 séries", "milliers de
    drones", "trois fois plus de munitions")? A number elsewhere in the sentence counts
    something else."""
    f = fold(text)
    for form in term.forms:
        body = re.escape(form.rstrip("$"))
        if re.search(rf"(?<![\w]){_QUANTITY}(?:[\s'-]+[\w-]+){{0,4}}?[\s'-]+{body}", f):
            return True
    return False
