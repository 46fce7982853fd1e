from __future__ import annotations

from assistant.coverage import question_entities, uncovered
from conftest import ROOT

TABLE = ROOT / "prompts" / "entities_en_fr.tsv"


def test_entities_skip_question_words_and_sentence_start() -> None:
    assert question_entities("How many weapons has China sold to Iran?") == ["china", "iran"]
    assert question_entities("Depuis combien de temps dure l’invasion de l’Ukraine ?") == ["ukraine"]
    assert question_entities("Quelle est la position de l’Inde ?") == ["inde"]


def test_english_names_found_in_french_text() -> None:
    texts = ["Les drones de fabrication iranienne et les Bayaktar de fabrication turque."]
    assert uncovered("Do Iranian drones outperform the Turkish Bayraktars?", texts, TABLE) == []
    assert uncovered("What did China sell?", texts, TABLE) == ["china"]


def test_short_forms_match_whole_words_only() -> None:
    # "Inde" must not be found inside "indépendance".
    assert uncovered("Quelle est la position de l’Inde ?", ["Il a reconnu l’indépendance."], TABLE) == ["inde"]


def test_unknown_entities_abstain_end_to_end(assistant) -> None:  # type: ignore[no-untyped-def]
    for q in ["How many weapons has China sold to Iran?", "Quelle est la position de l’Inde sur ces ventes d’armes ?"]:
        ans = assistant.ask(q)
        assert ans.abstained, q
        assert ans.closest, "closest passages are still shown"


def test_answer_kinds() -> None:
    from assistant.coverage import answer_kind, has_kind

    assert answer_kind("When did Shoigu visit North Korea?") == "time"
    assert answer_kind("Quand est-elle devenue secrétaire au Trésor ?") == "time"
    assert answer_kind("Combien de séries de sanctions ?") == "quantity"
    assert answer_kind("Who is John Kirby?") == ""
    assert answer_kind("Combien coûtent les obus achetés par la Russie ?") == "price"
    assert answer_kind("How much did the shells cost?") == "price"
    assert has_kind("price", "un programme d’aide de 250 millions de dollars")
    assert not has_kind("price", "des millions d’obus d’artillerie et de roquettes")
    assert has_kind("time", "Mais en mai, ils ont opposé leur veto.")
    assert has_kind("time", "le vendredi 18 août 2023")
    assert not has_kind("time", "La Russie achète des munitions à la Corée du Nord.")
    assert has_kind("quantity", "ils ont approuvé 11 séries de sanctions")
    assert has_kind("quantity", "trois fois plus de munitions")
    assert not has_kind("quantity", "Moscou a ensuite démenti cette information.")


def test_when_question_without_any_date_abstains(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("Quand est-elle devenue secrétaire au Trésor ?", ["What did Janet Yellen say?"])
    assert ans.abstained


def test_pronoun_followup_carries_the_earlier_question() -> None:
    from assistant.pipeline import resolve

    out = resolve("Quel était le but de sa visite ?", ["Qui a dirigé la délégation russe en Corée du Nord ?"])
    assert "délégation russe" in out and out.startswith("Quel était le but")
    assert resolve("What did he say about Pyongyang?", ["Who is John Kirby?"]) == "What did John Kirby say about Pyongyang?"


def test_content_terms_translate_english_words() -> None:
    from assistant.focus import content_terms, coverage

    terms = content_terms("What is Russia buying from North Korea?")
    assert [t.word for t in terms] == ["buying"]  # names and question words are not content
    assert coverage(terms, "La Russie achète des millions d’obus à la Corée du Nord.") == 1.0
    assert coverage(terms, "La Corée du Nord a nié.") == 0.0
    # French questions: stems, inversions and elisions ("donne-t-il", "d’armes").
    assert [t.word for t in content_terms("Quel nom Moscou donne-t-il à son invasion ?")] == ["nom", "donne", "invasion"]


def test_how_many_needs_a_quantity_of_the_counted_thing() -> None:
    from assistant.focus import content_terms, counted, quantity_of

    q = "How many soldiers have been sent?"
    noun = counted(q, content_terms(q))
    assert noun is not None and noun.word == "soldiers"
    assert quantity_of(noun, "Pyongyang a envoyé 3 000 soldats.")
    assert not quantity_of(noun, "Des soldats ont acheté des millions d’obus.")
    q = "Combien de drones ont été livrés ?"
    noun = counted(q, content_terms(q))
    assert quantity_of(noun, "L’Iran a équipé Moscou de milliers de drones explosifs.")
    assert not quantity_of(noun, "Les drones pourraient transporter trois fois plus de munitions.")


def test_name_questions_need_a_new_name() -> None:
    from assistant.coverage import answer_kind, has_kind

    q = "Comment s’appelle le ressortissant slovaque sanctionné par le Trésor ?"
    assert answer_kind(q) == "name"
    assert answer_kind("Quel nom Moscou donne-t-il à son invasion ?") == ""
    assert not has_kind("name", "le Trésor a sanctionné un ressortissant slovaque entre Moscou et Pyongyang", q)
    assert has_kind("name", "a déclaré la secrétaire au Trésor, Janet Yellen.", q)


def test_unasked_topics_abstain_end_to_end(assistant) -> None:  # type: ignore[no-untyped-def]
    for q in [
        "How is Kim Jong Un's health?",  # no sentence mentions health
        "How many North Korean soldiers have been sent to fight in Ukraine?",  # no count of soldiers
        "Combien de drones iraniens la défense aérienne ukrainienne a-t-elle abattus ?",  # counts of other events
        "When did Putin and Kim Jong Un last meet, and where?",  # dated sentences are not about a meeting
        "Comment s’appelle le ressortissant slovaque sanctionné par le Trésor ?",  # never named
    ]:
        ans = assistant.ask(q)
        assert ans.abstained, q
        assert ans.closest, q


def test_typed_questions_still_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    for q, needle in [
        ("Combien de drones l’Iran a-t-il fournis à Moscou selon l’article de 2023 ?", "milliers de drones"),
        ("When did Shoigu visit North Korea?", "juillet"),
        ("How much more ammunition can the Iranian drones carry than the Turkish Bayraktars?", "trois fois"),
    ]:
        ans = assistant.ask(q)
        assert not ans.abstained, q
        assert any(needle in c.quote for c in ans.citations), (q, [c.quote for c in ans.citations])


def test_title_questions_cite_the_headline(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("Quel est le titre de l’article qui présente le démenti nord-coréen ?")
    assert not ans.abstained
    assert ans.citations[0].quote == ans.citations[0].title  # a headline, verbatim


def test_when_questions_cite_the_dated_sentence_first(assistant) -> None:  # type: ignore[no-untyped-def]
    from assistant.coverage import has_kind

    ans = assistant.ask("Quel jour le New York Times a-t-il publié son rapport ?")
    assert not ans.abstained
    assert has_kind("time", ans.citations[0].quote)


def test_followup_words_count_more_than_the_earlier_question() -> None:
    from assistant.focus import followup_terms

    terms = followup_terms("Who did it blame?", "Who did it blame? — What did the defence ministry say?")
    weights = {t.word: t.weight for t in terms}
    assert weights["blame"] == 1.0 and weights["ministry"] == 0.5


def test_reactions_are_looked_for_among_all_sentences(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("How did Ukraine respond to Pyongyang recognising the separatist “L/DPR”?")
    assert not ans.abstained
    assert any("rompu toutes les relations diplomatiques" in c.quote for c in ans.citations)


def test_pronoun_sentence_inherits_its_predecessor(assistant) -> None:  # type: ignore[no-untyped-def]
    ans = assistant.ask("Who did it blame for the rumours?", ["What did the North Korean defence ministry say?"])
    assert not ans.abstained
    assert any(c.quote.startswith("Il a accusé") for c in ans.citations)


def test_dated_sentence_must_be_about_the_asked_names(assistant) -> None:  # type: ignore[no-untyped-def]
    # Shoigu's July visit to Pyongyang is dated; Janet Yellen never visits it.
    assert assistant.ask("When did Janet Yellen visit Pyongyang?").abstained
    # The names may sit in the sentences before ("Mais en mai, ils ont opposé leur veto").
    ans = assistant.ask("Quand la Russie et la Chine ont-elles opposé leur veto à de nouvelles sanctions contre la Corée du Nord ?")
    assert not ans.abstained
    assert any("en mai" in c.quote for c in ans.citations)
