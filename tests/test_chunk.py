from __future__ import annotations

from index.chunk import chunk_article, count_tokens, split_sentences

TEXT = (
    "Le porte-parole, John Kirby, a déclaré mercredi que M. Poutine écrivait. "
    "“Nous continuons à surveiller”, a poursuivi Kirby. Il a affirmé que les États-Unis agiraient!\n\n"
    "Un deuxième paragraphe sans point final\n"
    "Le 25 avril 2019, ils se sont rencontrés. J. Smith était là."
)


def test_sentences_are_exact_spans() -> None:
    spans = split_sentences(TEXT)
    texts = [TEXT[s:e] for s, e in spans]
    assert texts == [
        "Le porte-parole, John Kirby, a déclaré mercredi que M. Poutine écrivait.",
        "“Nous continuons à surveiller”, a poursuivi Kirby.",
        "Il a affirmé que les États-Unis agiraient!",
        "Un deuxième paragraphe sans point final",
        "Le 25 avril 2019, ils se sont rencontrés.",
        "J. Smith était là.",
    ]


def test_chunks_bounded_and_spans_verbatim() -> None:
    long_text = " ".join(f"Phrase numéro {i} sur la Corée du Nord et la Russie." for i in range(200))
    chunks = chunk_article("a1", long_text, max_tokens=64)
    assert len(chunks) > 5
    for c in chunks:
        assert long_text[c.start : c.end] == c.text
        assert count_tokens(c.text) <= 64
        for s in c.sentences:
            assert long_text[s.start : s.end] == s.text
            assert c.start <= s.start < s.end <= c.end
    indexes = [s.index for c in chunks for s in c.sentences]
    assert indexes == list(range(len(indexes)))


def test_overlong_sentence_is_split_at_whitespace() -> None:
    text = "mot " * 500 + "fin."
    chunks = chunk_article("a2", text, max_tokens=50)
    assert all(count_tokens(c.text) <= 50 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
