"""Who said what: find statements attributed to a speaker.

A statement is a sentence that names the speaker (or the role they are known by)
together with a reporting cue ("a déclaré", "a noté", "selon X", "said"...), plus the
sentences right after it that carry on the same speaker's words ("Il a affirmé que...",
or a sentence that is only a quotation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.lexical import fold

# Question forms that ask for someone's words, in English and French.
_SPEECH_Q = [
    re.compile(r"^\s*what\s+(?:else\s+)?(?:did|does|has|have|had)\s+(?P<x>.+?)\s+(?:say|said|tell|told|state|declare|claim|announce|add|note)\b(?P<rest>.*)$", re.I),
    re.compile(r"^\s*what\s+(?:was|were)\s+(?P<x>.+?)['’]s\s+(?:statements?|words|comments?|remarks?)\b(?P<rest>.*)$", re.I),
    re.compile(r"^\s*(?:how|what)\s+did\s+(?P<x>.+?)\s+(?:react|respond|comment|describe)\b(?P<rest>.*)$", re.I),
    re.compile(r"^\s*qu['’]\s*(?:a|ont|avait)(?:-t-(?:il|elle))?\s+(?:dit|déclaré|affirmé|annoncé|ajouté|noté|répondu)\s+(?:d['’]autre\s+)?(?P<x>.+?)(?P<rest>\s+(?:sur|à propos|au sujet|concernant)\b.*)?\s*[?.!]*\s*$", re.I),
    re.compile(r"^\s*qu['’]\s*est[- ]ce\s+qu[e'’]\s*(?P<x>.+?)\s+a\s+(?:dit|déclaré|affirmé|annoncé)(?P<rest>.*)$", re.I),
    re.compile(r"^\s*que\s+(?:dit|disait|déclare|a dit|a déclaré)\s+(?P<x>.+?)(?P<rest>\s+(?:sur|à propos|au sujet|concernant)\b.*)?\s*[?.!]*\s*$", re.I),
    re.compile(r"^\s*quelles?\s+(?:sont\s+les\s+)?(?:déclarations?|propos)\s+(?:de|du|des|d['’])\s*(?P<x>.+?)(?P<rest>\s+(?:sur|à propos)\b.*)?\s*[?.!]*\s*$", re.I),
]
PRONOUNS = {"he", "she", "they", "him", "her", "them", "il", "elle", "ils", "elles", "lui"}

_CUE = re.compile(
    r"\b(?:a|ont|avait|avaient|aurait|auraient)\s+(?:(?:egalement|aussi|ensuite|encore|plus tard|alors|deja)\s+)?"
    r"(?:declare|dit|ajoute|note|affirme|poursuivi|souligne|indique|explique|precise|estime|assure|"
    r"revele|averti|reconnu|accuse|annonce|confirme|insiste|repondu|ecrit|publie|demente|nie|"
    r"exprime|promis|cite)"
    r"|\b(?:declare|a-t-il|a-t-elle|ajoutant|affirmant|soulignant|expliquant|selon|d'apres|"
    r"said|says|told|added|noted|stated|according to|declared|warned|claimed)\b"
    r"|[«“\"]"
)
_CONTINUES = re.compile(
    r"^(?:il|elle|ils|elles|selon lui|selon elle|he|she|they)\s+(?:a|ont|avait|avaient|has|had)?\s*"
    r"(?:egalement\s+|aussi\s+|ensuite\s+|encore\s+)?"
    r"(?:declare|dit|ajoute|note|affirme|poursuivi|souligne|indique|explique|precise|estime|assure|"
    r"revele|averti|reconnu|accuse|annonce|confirme|insiste|repondu|said|added|noted|warned)\b"
)
_QUOTE_ONLY = re.compile(r"^\s*[«“\"].{10,}[»”\"][.!?]?\s*$", re.S)
_NAME = re.compile(r"\b([A-ZÀ-ÖØ-Þ][\w’'-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w’'-]+){0,3})")
_ARTICLES = re.compile(r"^(?:the|le|la|les|l['’]|du|de la|des)\s+", re.I)


@dataclass
class Speaker:
    """Who the question is about: names to look for and role phrases (folded)."""

    label: str
    names: list[str] = field(default_factory=list)  # folded surnames / full names
    roles: list[list[list[str]]] = field(default_factory=list)  # role -> parts -> alternatives

    def is_empty(self) -> bool:
        return not self.names and not self.roles


def parse_speech_question(question: str) -> tuple[str, str] | None:
    """Return (speaker phrase, rest of the question) when the question asks what someone said."""
    q = question.strip()
    for pattern in _SPEECH_Q:
        m = pattern.match(q)
        if m:
            x = m.group("x").strip(" ?,.")
            rest = (m.groupdict().get("rest") or "").strip(" ?.")
            rest = re.sub(r"^(?:about|on|regarding|concerning|sur|à propos de|à propos du|au sujet de|au sujet du|concernant)\s+", "", rest, flags=re.I)
            if x and len(x) < 80:
                return x, rest
    return None


@lru_cache(maxsize=4)
def _glossary(path: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        en, fr = line.split("\t", 1)
        rows.append((en.strip(), [a.strip() for a in fr.split("|")]))
    # Longest English phrases first so "white house" wins over "house".
    return sorted(rows, key=lambda r: -len(r[0]))


def resolve_speaker(phrase: str, glossary_path: Path) -> Speaker:
    text = _ARTICLES.sub("", phrase.strip())
    speaker = Speaker(label=text)
    names = [n for n in _NAME.findall(text)]
    folded = fold(text)
    # Role words (translated through the glossary) are looked for as parts that must
    # all be present; what is left capitalised is a proper name.
    remaining = f" {folded} "
    parts: list[list[str]] = []
    for en, fr in _glossary(str(glossary_path)):
        if f" {en} " in remaining:
            parts.append(fr + [en])
            remaining = remaining.replace(f" {en} ", " ")
    for n in names:
        fn = fold(n)
        if any(fn == en or fn in en.split() for en, _ in _glossary(str(glossary_path))):
            continue
        if fn.split()[0] in {"the", "le", "la", "les", "what", "who"}:
            continue
        speaker.names.append(fn)
    if parts and not speaker.names:
        speaker.roles.append(parts)
    elif not speaker.names and remaining.strip():
        # French role phrase or an uncapitalised name: use its content words as parts.
        words = [w for w in re.findall(r"[\w'-]+", remaining) if len(w) > 2 and w not in {"the", "les", "des", "une"}]
        if words:
            # Match word starts ("anonyme" finds "anonymat", "américain" "américaine").
            speaker.roles.append([[w[: max(5, len(w) - 2)] + "*"] for w in words])
    return speaker


def _contains(hay: str, needle: str) -> bool:
    if needle.endswith("*"):
        return re.search(rf"(?<![\w-]){re.escape(needle[:-1])}", hay) is not None
    return re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w])", hay) is not None


def names_in(folded_sentence: str, speaker: Speaker) -> bool:
    for name in speaker.names:
        if _contains(folded_sentence, name):
            return True
        # "John Kirby" in the question, "Kirby" in the text
        last = name.split()[-1]
        if len(last) > 2 and _contains(folded_sentence, last):
            return True
    return False


def role_in(folded_sentence: str, speaker: Speaker) -> bool:
    return any(
        all(any(_contains(folded_sentence, alt) for alt in alts) for alts in parts)
        for parts in speaker.roles
    )


def is_attributed(sentence: str, speaker: Speaker) -> bool:
    """Does the sentence report words of this speaker?"""
    f = fold(sentence)
    if not (names_in(f, speaker) or role_in(f, speaker)):
        return False
    return _CUE.search(f) is not None or _CUE.search(sentence) is not None


def continues(sentence: str) -> bool:
    """Does this sentence carry on the previous speaker's words?"""
    return bool(_CONTINUES.match(fold(sentence).lstrip(" “«\""))) or bool(_QUOTE_ONLY.match(sentence))


def aliases_from(sentence: str, speaker: Speaker) -> list[str]:
    """A role sentence that also names a person ("le porte-parole ..., John Kirby")
    tells us who holds the role: their other statements count too."""
    if not speaker.roles:
        return []
    out = []
    for n in _NAME.findall(sentence):
        words = n.split()
        if len(words) >= 2 and fold(words[0]) not in {"la", "le", "les", "maison", "conseil", "il", "elle", "nous"}:
            out.append(fold(n))
    return out
