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
