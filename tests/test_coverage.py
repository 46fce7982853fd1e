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
