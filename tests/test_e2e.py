"""End to end on the bundled corpus: ingest, ask, check the citations against the
stored article text."""

from __future__ import annotations

from conftest import article_text

KIRBY_002 = [
    "a déclaré Kirby, ajoutant que d’importantes négociations",
    "a noté Kirby",
    "a poursuivi Kirby",
    "Il a affirmé que les États-Unis prendraient des mesures",
]
KIRBY_003 = "John Kirby, a ajouté plus tard que les achats n’étaient pas encore terminés"


def test_what_did_kirby_say(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("What did Kirby say?")
    assert not ans.abstained
    sources = {c.source for c in ans.citations}
    assert sources == {"002_cd1684a615374415.txt", "003_608624f0b3493408.txt"}
    quotes = " ".join(c.quote for c in ans.citations)
    for needle in KIRBY_002 + [KIRBY_003]:
        assert needle in quotes, needle
    # Sentences that merely share words with the question are not Kirby's statements.
    for c in ans.citations:
        assert "Kirby" in c.quote or c.quote.startswith(("Il a", "“", "«")), c.quote
    # Every quote is verbatim at its offsets; every marker names a citation.
    for c in ans.citations:
        assert article_text(assistant, c.source)[c.start : c.end] == c.quote
        assert f"[{c.id}]" in ans.answer
    assert "Yellen" not in quotes and "Ignat" not in quotes


def test_kirby_in_french(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("Qu'a dit Kirby ?")
    assert not ans.abstained
    assert ans.answer.startswith("Ce qu'a dit")
    assert {c.source for c in ans.citations} == {"002_cd1684a615374415.txt", "003_608624f0b3493408.txt"}


def test_statements_grouped_oldest_article_first(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("What did Kirby say?")
    # 003 is dated 2022-09-22; 002 has no date, so it comes after.
    assert ans.citations[0].source == "003_608624f0b3493408.txt"
    assert ans.answer.index("BBC, 2022-09-22") < ans.answer.index("002_cd1684a615374415.txt")


def test_cross_lingual_factoid(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("Which Iranian drone models had technical problems?")
    assert not ans.abstained
    assert any("Mohajer-6" in c.quote for c in ans.citations)


def test_boilerplate_and_unknown_topics_abstain(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.answer import cannot_answer_phrases

    phrases = cannot_answer_phrases(assistant.settings.prompts_dir)
    for q in [
        "What does the site use cookies for?",
        "Comment recevoir les nouvelles sur Telegram ?",
        "What did Macron say?",
        "What is the price of one artillery shell?",
    ]:
        ans = assistant.ask(q)
        assert ans.abstained, (q, ans.answer)
        assert ans.answer in phrases
        assert ans.citations == []


def test_followup_resolves_the_speaker(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("What did he say about Pyongyang's assurances?", ["Who is John Kirby?"])
    assert not ans.abstained
    assert ans.resolved_question and "John Kirby" in ans.resolved_question
    assert any("assurances répétées de Pyongyang" in c.quote for c in ans.citations)


def test_no_boilerplate_in_the_index(assistant) -> None:  # type: ignore[no-untyped-def]
    chunks = assistant.store.all_chunks()
    text = "\n".join(c["text"] for c in chunks)
    for furniture in ["cookies", "Google News", "LAISSER UN COMMENTAIRE", "Publicité", "Crédit photo",
                      "Légende des photos", "Telegram", "Spécialiste de la culture pop", "Articles similaires"]:
        assert furniture not in text, furniture
