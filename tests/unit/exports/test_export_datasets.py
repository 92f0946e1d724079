"""The dataset bundle: contract validation and the tables derived from it."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.datasets import (
    Dataset,
    DatasetError,
    answers_missing,
    answers_wide,
    case_code_matrix,
    cases,
    variables,
)


def test_missing_column_is_named(small_ds: Dataset) -> None:
    with pytest.raises(DatasetError, match=r"'codings' lacks column 'coder'"):
        Dataset(codings=small_ds.codings.drop(columns=["coder"]))


def test_answers_wide_one_column_per_question_and_choice(small_ds: Dataset) -> None:
    wide = answers_wide(small_ds)
    assert len(wide) == len(small_ds.interviews)
    assert {"a3_appuis_cci", "a3_appuis_banque", "a4_frequence", "a1_parcours"} <= set(wide)
    assert "a3_appuis" not in wide
    long = small_ds.answers_long.set_index(["interview_id", "question_key"])["value"]
    for row in wide.itertuples():
        answer = long.get((row.interview_id, "a3_appuis"))
        if isinstance(answer, str):
            assert row.a3_appuis_cci == int("cci" in answer.split())
        frequency = long.get((row.interview_id, "a4_frequence"))
        if isinstance(frequency, str):
            assert row.a4_frequence == int(frequency)


def test_missing_kinds_kept_apart_and_not_asked_for_other_guide(small_ds: Dataset) -> None:
    kinds = answers_missing(small_ds).set_index("interview_id")
    relay = small_ds.interviews.query("respondent_type == 'relay'")["interview_id"]
    assert (kinds.loc[relay, "a5_proximite"] == "not_asked").all()
    refused = small_ds.answers_long.dropna(subset=["missing"]).iloc[0]
    assert kinds.at[refused.interview_id, refused.question_key] == refused.missing


def test_case_code_matrix_counts_and_presence(small_ds: Dataset) -> None:
    counts = case_code_matrix(small_ds, level="code", measure="count").set_index("interview_id")
    expected = small_ds.codings.groupby(["interview_id", "code"]).size()
    for (interview, code), n in expected.items():
        assert counts.at[interview, code] == n
    assert counts.to_numpy().sum() == len(small_ds.codings)
    presence = case_code_matrix(small_ds, level="family", measure="presence")
    assert list(presence.columns) == ["interview_id", "GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER"]
    assert set(pd.unique(presence.drop(columns="interview_id").to_numpy().ravel())) <= {0, 1}
    with pytest.raises(DatasetError, match="level"):
        case_code_matrix(small_ds, level="theme")


def test_dictionary_describes_every_cases_variable(small_ds: Dataset) -> None:
    dictionary = variables(small_ds).set_index("variable")
    assert set(cases(small_ds).columns) <= set(dictionary.index)
    a5 = dictionary.loc["a5_proximite"]
    assert a5.label_fr == "J'ai un interlocuteur identifié et proche."
    assert (a5.d, a5.codes, a5.instrument_version) == ("D4_GOV", "GOV.PROX", "guide_pme@1.0")
    assert "5 = Tout à fait d'accord" in a5.allowed_values
    assert "refused" in a5.allowed_values
    assert dictionary.loc["a3_appuis_tfe", "type"] == "binary"
    assert "reverse" in dictionary.loc["a6_doublons", "label_en"]


def test_extra_tables_are_exported_and_names_checked(small_ds: Dataset, tmp_path) -> None:
    from analysis.writers import write_csv

    scores = pd.DataFrame({"territory": ["12"], "d3": [0.4], "d3_low": [0.3], "d3_high": [0.5]})
    small_ds.extra_tables = {"scores_4d": scores}
    Dataset.__post_init__(small_ds)
    write_csv(small_ds, tmp_path / "out")
    assert pd.read_csv(tmp_path / "out" / "scores_4d.csv", dtype={"territory": str}).equals(scores)
    with pytest.raises(DatasetError, match="'cases' is reserved"):
        Dataset(extra_tables={"cases": scores})
