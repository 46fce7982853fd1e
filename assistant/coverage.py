"""Entity coverage: the names a question asks about must appear in the evidence.

Dense similarity alone cannot tell "What did Russia buy from North Korea?" from "What
did China sell to Iran?": both land on the same sentences. A question's proper nouns
(and English calendar words, mapped to French through ``prompts/entities_en_fr.tsv``)
must each be found at a word start in the selected evidence; otherwise the articles do
not answer the question and the assistant abstains.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from assistant.lexical import fold

_CAP = re.compile(r"(?:^|(?<=[\s(\"“«'’-]))([A-ZÀ-ÖØ-Þ][\w]*)")
_SKIP = {
    "what", "who", "whom", "whose", "when", "where", "why", "how", "which", "did", "does", "do",
    "is", "are", "was", "were", "has", "have", "had", "can", "could", "would", "will", "should",
    "the", "a", "an", "and", "or", "in", "on", "of", "to", "for", "according", "tell", "give",
    "list", "name", "say", "i", "is", "it", "its", "there", "this", "that", "these", "those",
    "qui", "que", "quoi", "quand", "ou", "où", "pourquoi", "comment", "quel", "quelle", "quels",
    "quelles", "qu", "combien", "est", "et", "le", "la", "les", "l", "d", "de", "du", "des", "un",
    "une", "en", "selon", "dans", "a", "y", "ce", "cette", "il", "elle", "ils", "elles", "s",
    "existe", "peut", "sont", "ont", "avait", "etait", "the",
}


_DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "prompts" / "entities_en_fr.tsv"


@lru_cache(maxsize=4)
def _entities_table(path: str) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    p = Path(path)
    if not p.exists():
        return table
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            en, alts = line.split("\t", 1)
            table[en.strip()] = [a.strip() for a in alts.split("|") if a.strip()]
    return table


def question_entities(question: str) -> list[str]:
    """Capitalised words of the question that are not question words (folded)."""
    out = []
    table = _entities_table(str(_DEFAULT_TABLE))
    for m in _CAP.finditer(question.replace("’", "'")):
        word = fold(m.group(1))
        # The first word is capitalised anyway ("Depuis", "Besides"): a name only if known.
        if m.start(1) == len(question) - len(question.lstrip()) and word not in table:
            continue
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) < 2 or word in _SKIP or word.isdigit():
            continue
        if word not in out:
            out.append(word)
    return out


def _forms(entity: str, table: dict[str, list[str]]) -> list[str]:
    if entity in table:
        return table[entity] + [entity]
    # Unknown name: its first letters, so "Iranian" finds "iranienne" and "Slovak"
    # finds "slovaque", while short names must match whole.
    if len(entity) <= 5:
        return [entity + "$"]
    return [entity[:5]]


def _pattern(form: str) -> str:
    # Forms match at a word start ("ukrain" finds "ukrainienne"); a trailing "$" in the
    # table asks for the whole word ("inde$" is not "independance").
    if form.endswith("$"):
        return rf"(?<![\w]){re.escape(form[:-1])}(?![\w])"
    return rf"(?<![\w]){re.escape(form)}"


def uncovered(question: str, texts: list[str], table_path: Path) -> list[str]:
    """The question's entities that none of ``texts`` mentions."""
    table = _entities_table(str(table_path))
    hay = " " + " ".join(fold(t) for t in texts)
    missing = []
    words: set[str] | None = None
    for entity in question_entities(question):
        forms = _forms(entity, table)
        if any(re.search(_pattern(f), hay) for f in forms):
            continue
        if entity not in table and len(entity) >= 6:
            # Names are misspelt in the wild ("Bayaktar" for "Bayraktar"): allow one edit.
            words = words if words is not None else set(re.findall(r"\w+", hay))
            stem = entity[:-1] if entity.endswith("s") else entity
            if any(abs(len(w) - len(stem)) <= 1 and _within_one_edit(w, stem) for w in words):
                continue
        missing.append(entity)
    return missing


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            i += 1
        j += 1
    return edits + (len(b) - j) <= 1


# --- answer types --------------------------------------------------------------------
# "When...?" must be answered by a sentence holding a time expression, "How many...?" by
# one holding a quantity. Evidence of the right type is preferred, and when none of the
# evidence has it the articles do not answer the question.
_WHEN_Q = re.compile(
    r"^\s*(?:when|since when|what year|which year|what date|what day|on what day|"
    r"quand|depuis quand|en quelle annee|a quelle date|quel jour|quelle annee|quel mois|"
    r"avant quelle date|a quel moment)\b"
)
_HOW_MANY_Q = re.compile(r"^\s*(?:how many|how much|combien)\b")
_PRICE_Q = re.compile(
    r"^\s*(?:how much (?:does|do|did|is|are|was|were|money)\b.*(?:cost|pay|paid|worth|price)|"
    r"what (?:is|was|are|were) the (?:price|cost)|combien (?:coute|coutent|a coute|ont coute|vaut|valent)|"
    r"quel (?:est|etait) le (?:prix|cout)|a quel prix)"
)
_MONEY = re.compile(
    r"(?:[$€£¥]|\b(?:dollars?|euros?|roubles?|rubles?|pounds|livres|wons?|yuans?|prix|couts?|"
    r"price|cost|tarif|paye|payes|paid|usd|eur)\b)"
)
_MONTHS = (
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_DAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TIME = re.compile(
    rf"\b(?:1[89]\d\d|20\d\d|{_MONTHS}|{_DAYS}|hier|aujourd'hui|yesterday|today|"
    r"(?:la |l')?(?:semaine|annee|an) (?:derniere|dernier|prochaine|prochain)|(?:le )?mois (?:dernier|prochain)|"
    r"last (?:week|month|year)|next (?:week|month|year)|ces dernieres (?:semaines|annees)|"
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|depuis \d+|(?:\d+|dix-huit|deux|trois|quelques) (?:mois|ans|annees|semaines|jours))\b"
)
_QUANTITY = re.compile(
    r"\b(?:\d+|millions?|milliards?|milliers|centaines|dizaines|douzaines|hundreds|thousands|"
    r"millions|billions|dozens|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|"
    r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fois|times)\b"
)


# "Comment s'appelle...?" asks for a name: a sentence that names nobody new does not answer.
_NAME_Q = re.compile(
    r"^\s*(?:comment (?:s'appel\w*|se nomm\w*)|quel (?:est|etait) (?:le|son|leur) nom|"
    r"what (?:is|was|'s) (?:the|his|her|its|their) name|what (?:is|was) (?:he|she|it|they) called)\b"
)
_PROPER_NAME = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w'’-]+)+")


def answer_kind(question: str) -> str:
    q = fold(question)
    if _PRICE_Q.match(q):
        return "price"
    if _NAME_Q.match(q.replace("’", "'")):
        return "name"
    if _WHEN_Q.match(q):
        return "time"
    if _HOW_MANY_Q.match(q):
        return "quantity"
    return ""


def has_kind(kind: str, text: str, question: str = "") -> bool:
    if not kind:
        return True
    if kind == "name":
        # A full name ("Janet Yellen", two capitalised words) the question does not give.
        asked = set(question_entities(question)) if question else set()
        return any(
            not {fold(w) for w in m.group(0).split()} <= asked for m in _PROPER_NAME.finditer(text)
        )
    pattern = {"time": _TIME, "quantity": _QUANTITY, "price": _MONEY}[kind]
    return pattern.search(fold(text)) is not None
