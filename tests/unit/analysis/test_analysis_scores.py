"""Likert and transcript scores, Cronbach's alpha, triangulation, group weighting."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import scores

LIKERT = [{"value": str(v), "label": {"fr": str(v), "en": str(v)}} for v in range(1, 6)]
QUESTIONS = {
    "q1": {"type": "likert", "d": "D4_GOV", "reverse": False, "choices": LIKERT},
    "q2": {"type": "likert", "d": "D4_GOV", "reverse": True, "choices": LIKERT},
    "q3": {"type": "frequency", "d": "D3", "reverse": False, "choices": LIKERT},
    "open": {"type": "long_text", "d": "D3", "reverse": False, "choices": []},
}


def answers(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["interview_id", "question_key", "value", "missing"])


def test_cronbach_alpha_hand_example() -> None:
    items = pd.DataFrame({"x1": [2, 3, 4, 5], "x2": [1, 3, 3, 5], "x3": [2, 2, 4, 4]})
    # item variances 5/3, 8/3, 4/3 (sum 17/3); totals 5, 8, 11, 14 have variance 15
    # alpha = 3/2 * (1 - (17/3)/15) = 42/45
    assert scores.cronbach_alpha(items) == pytest.approx(42 / 45)


def test_cronbach_alpha_needs_two_items_and_two_rows() -> None:
    assert math.isnan(scores.cronbach_alpha(pd.DataFrame({"x": [1, 2, 3]})))
    assert math.isnan(scores.cronbach_alpha(pd.DataFrame({"x": [1], "y": [2]})))


def test_likert_reverse_items_are_recoded_with_fixed_anchors() -> None:
    ans = answers(
        [
            (1, "q1", "5", None),
            (1, "q2", "2", None),
            (1, "q3", "3", None),
            (1, "open", "blah", None),
            (2, "q1", None, "dont_know"),
            (2, "q2", "9", None),
            (2, "q3", "1", None),
        ]
    )
    out = scores.likert_scores(ans, QUESTIONS).set_index(["interview_id", "dimension"])
    # q1 = 5 -> 1.0; q2 = 2 reversed -> 4 -> 0.75
    assert out.loc[(1, "D4_GOV"), "likert"] == pytest.approx(0.875)
    assert out.loc[(1, "D4_GOV"), "n_items"] == 2
    assert out.loc[(1, "D3"), "likert"] == pytest.approx(0.5)
    # "don't know" and the out-of-range 9 are not scored
    assert (2, "D4_GOV") not in out.index
    assert out.loc[(2, "D3"), "likert"] == 0.0


def test_questions_from_instrument_resolves_choice_lists() -> None:
    inst = {
        "choice_lists": {"likert5": LIKERT},
        "sections": [
            {
                "key": "s",
                "questions": [
                    {
                        "key": "a6",
                        "type": "likert",
                        "choices": "likert5",
                        "reverse": True,
                        "d": "D4_GOV",
                        "label": {"fr": "x"},
                    }
                ],
            }
        ],
    }
    meta = scores.questions_from_instrument(inst)
    assert meta["a6"]["reverse"] is True and meta["a6"]["choices"] == LIKERT
    assert scores.scale_items(meta).iloc[0].to_dict() == {
        "question_key": "a6",
        "dimension": "D4_GOV",
        "reverse": True,
        "lo": 1.0,
        "hi": 5.0,
    }


def coding(iid: int, code: str, coder: str, valence, intensity, source: str = "human") -> dict:
    return {
        "interview_id": iid,
        "code": code,
        "family": None,
        "coder": coder,
        "source": source,
        "valence": valence,
        "intensity": intensity,
    }


def test_coding_score_from_presence_valence_intensity() -> None:
    cod = pd.DataFrame(
        [
            coding(1, "DYN.INIT", "ana", 1, 3),
            coding(1, "DYN.FREQ", "ana", -1, 1),
            coding(1, "OTH.RESID", "ana", 1, 3),
        ]
    )
    out = scores.coding_scores(cod)
    assert out["dimension"].tolist() == ["D3"]
    # weights 1 and .5; balance (1 - .5)/1.5 = 1/3; presence 2/3 -> .5 + .5 * 2/3 * 1/3
    assert out["coding"].iloc[0] == pytest.approx(0.5 + 1 / 9)


def test_codes_imported_from_another_tool_leave_the_scores_alone() -> None:
    # NVivo's "Réseaux" (family IMPORTED) informs no D, even coded with a valence
    theirs = {**coding(1, "Réseaux", "ana", 1, 3), "family": "IMPORTED"}
    cod = pd.DataFrame([coding(1, "DYN.INIT", "ana", 1, 3), theirs, theirs])
    only_ours = pd.DataFrame([coding(1, "DYN.INIT", "ana", 1, 3)])
    pd.testing.assert_frame_equal(scores.coding_scores(cod), scores.coding_scores(only_ours))


def test_consensus_codings_replace_the_individual_coders() -> None:
    cod = pd.DataFrame(
        [
            coding(1, "GOV.FRAG", "ana", -1, 3),
            coding(1, "GOV.FRAG", "ben", 1, 3),
            coding(1, "GOV.COORD", "rec", 1, 3, "consensus"),
            coding(2, "GOV.FRAG", "ana", -1, 3),
            coding(2, "GOV.FRAG", "ben", 1, 3),
            coding(2, "GOV.FRAG", "model", 1, 3, "model"),
        ]
    )
    out = scores.coding_scores(cod)
    assert out.loc[out.interview_id == 1, "coder"].tolist() == ["rec"]
    assert sorted(out.loc[out.interview_id == 2, "coder"]) == ["ana", "ben"]
    assert scores.coders_by_interview(cod) == {1: ["rec"], 2: ["ana", "ben"]}


def test_triangulation_flag_when_scores_differ_by_more_than_point_two() -> None:
    iv = pd.DataFrame(
        {"interview_id": [1, 2], "org_id": [1, 2], "respondent_type": ["sme", "relay"]}
    )
    ans = answers([(1, "q1", "5", None), (2, "q1", "3", None)])
    cod = pd.DataFrame(
        [coding(1, "GOV.FRAG", "ana", -1, 3)] * 3 + [coding(2, "GOV.PILOT", "ana", 0, 2)]
    )
    out = scores.respondent_scores(iv, ans, cod, QUESTIONS)
    gov = out[out.dimension == "D4_GOV"].set_index("interview_id")
    assert gov.loc[1, "likert"] == 1.0 and gov.loc[1, "coding"] == 0.0
    assert bool(gov.loc[1, "flag"]) is True
    assert gov.loc[2, "likert"] == 0.5 and gov.loc[2, "coding"] == 0.5
    assert bool(gov.loc[2, "flag"]) is False
    d3 = out[out.dimension == "D3"]
    assert d3["likert"].isna().all() and not d3["flag"].any()


def test_groups_are_weighted_equally() -> None:
    assert scores.combine_groups({"sme": 0.2, "relay": 0.8}) == (pytest.approx(0.5), "")
    value, note = scores.combine_groups({"sme": 0.2, "relay": float("nan")})
    assert value == 0.2 and note == "only sme respondents"
    assert math.isnan(scores.combine_groups({})[0])


def test_scale_alpha_per_respondent_type_and_dimension() -> None:
    rows = []
    for iid, (a, b) in enumerate([(2, 1), (3, 3), (4, 3), (5, 5)], start=1):
        rows += [(iid, "q1", str(a), None), (iid, "q2", str(6 - b), None)]
    iv = pd.DataFrame({"interview_id": [1, 2, 3, 4], "respondent_type": ["sme"] * 4})
    out = scores.scale_alphas(iv, answers(rows), QUESTIONS)
    row = out.iloc[0]
    assert (row["respondent_type"], row["dimension"], row["n_items"]) == ("sme", "D4_GOV", 2)
    items = pd.DataFrame({"x1": [2, 3, 4, 5], "x2": [1, 3, 3, 5]}) / 4
    assert row["alpha"] == pytest.approx(scores.cronbach_alpha(items))
