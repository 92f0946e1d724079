"""The .sav and .dta files keep every answer of the CSV, on the project's own two guides.

Both guides ask `role` with different answer lists (sme_role, relay_role): each relay
respondent's role must survive in the labelled files as it does in the CSV.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis.datasets import Dataset, answers_missing, merged_questions
from analysis.synthetic_project import synthetic_dataset
from analysis.writers import write_csv
from analysis.writers.stats import SPSS_MISSING, STATA_MISSING, write_dta, write_sav

ROOT = Path(__file__).resolve().parents[3]
KINDS = ("dont_know", "refused", "not_asked")


def _answer(meta: dict, n: int) -> tuple[str | None, str | None]:
    """Vary the answers over the interviews: every choice of every list comes up."""
    values = [c["value"] for c in meta["choices"]]
    kind = meta["type"]
    if kind == "consent":
        return "yes", None
    if n % 7 == 3:
        return None, KINDS[n % 3]
    if kind == "select_multiple":
        return " ".join(values[n % len(values) : n % len(values) + 2]), None
    if values:
        return values[n % len(values)], None
    if kind == "integer":
        return str(n * 7 % 90), None
    if kind == "decimal":
        return f"{n * 1.25:.2f}", None
    if kind == "date":
        return f"2026-01-{n % 28 + 1:02d}", None
    return f"Réponse libre {n}", None


@pytest.fixture(scope="module")
def guides_ds() -> Dataset:
    model = pytest.importorskip("survey_app.instruments.definitions")
    guides = {}
    for name in ("sme_manager", "relay_actor"):
        instrument = model.load_instrument(ROOT / "instruments" / f"{name}.yaml")
        guides[(instrument.id, str(instrument.version))] = model.question_metadata(instrument)
    base = synthetic_dataset(n_interviews=24, n_codings=60, seed=7)
    interviews = base.interviews.copy()
    (sme, sme_v), (relay, relay_v) = list(guides)
    is_relay = interviews["respondent_type"] == "relay"
    interviews["instrument_id"] = [relay if r else sme for r in is_relay]
    interviews["instrument_version"] = [relay_v if r else sme_v for r in is_relay]
    rows = []
    for iv in interviews.itertuples():
        for n, (key, meta) in enumerate(guides[(iv.instrument_id, iv.instrument_version)].items()):
            value, missing = _answer(meta, iv.interview_id + n)
            rows.append(
                {
                    "interview_id": iv.interview_id,
                    "question_key": key,
                    "value": value,
                    "missing": missing,
                }
            )
    base.interviews, base.instruments = interviews, guides
    base.answers_long = pd.DataFrame(rows)
    return base


@pytest.fixture(scope="module")
def written(guides_ds: Dataset, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("labelled")
    write_csv(guides_ds, folder / "csv", tables=["cases"])
    write_sav(guides_ds, folder / "g.sav", dictionary=False)
    write_dta(guides_ds, folder / "g.dta", dictionary=False)
    return {"csv": folder / "csv" / "cases.csv", "sav": folder / "g.sav", "dta": folder / "g.dta"}


def _labels_of(guides_ds: Dataset) -> dict[str, dict[str, str]]:
    """Question key -> {choice value: French label} over both guides."""
    out: dict[str, dict[str, str]] = {}
    for guide in guides_ds.instruments.values():
        for key, meta in guide.items():
            for c in meta["choices"]:
                out.setdefault(key, {}).setdefault(c["value"], c["label"]["fr"])
    return out


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _same(csv_value, stat_value, labels: dict, choice_labels: dict[str, str]) -> bool:
    """Tell whether a labelled file's cell says what the CSV cell says."""
    if _is_blank(csv_value):
        return _is_blank(stat_value)
    if isinstance(stat_value, str):
        return str(stat_value) == str(csv_value)
    if hasattr(stat_value, "isoformat"):
        return stat_value.isoformat()[:10] == str(csv_value)[:10]
    if str(csv_value) in choice_labels and not str(csv_value).lstrip("-").isdigit():
        # a text choice is written as a code whose value label is the choice's label
        return labels.get(stat_value) == choice_labels[str(csv_value)]
    return not _is_blank(stat_value) and float(csv_value) == float(stat_value)


def _compare(guides_ds, csv: pd.DataFrame, stat: pd.DataFrame, value_labels, missing_of):
    questions = merged_questions(guides_ds)
    kinds = answers_missing(guides_ds).set_index("interview_id")
    assert list(stat.columns) == list(csv.columns)
    mismatches = []
    for column in csv.columns:
        labels = value_labels.get(column, {})
        choice_labels = {
            str(c["value"]): c["label"]["fr"] for c in questions.get(column, {}).get("choices", [])
        }
        for i, (csv_value, stat_value) in enumerate(zip(csv[column], stat[column], strict=True)):
            kind = missing_of(stat_value)
            if kind:
                expected = kinds.at[int(csv.at[i, "interview_id"]), column]
                ok = _is_blank(csv_value) and kind == expected
            else:
                ok = _same(csv_value, stat_value, labels, choice_labels)
            if not ok:
                mismatches.append((column, int(csv.at[i, "interview_id"]), csv_value, stat_value))
    assert mismatches == []


def test_every_sav_cell_says_what_the_csv_says(guides_ds, written) -> None:
    csv = pd.read_csv(written["csv"], dtype=str, keep_default_na=False).replace("", None)
    sav, meta = pyreadstat.read_sav(written["sav"], user_missing=True)
    by_code = {code: kind for kind, code in SPSS_MISSING.items()}
    user_missing = set(meta.missing_ranges)

    def missing_of(value):
        return by_code.get(value) if isinstance(value, float) else None

    _compare(guides_ds, csv, sav, meta.variable_value_labels, missing_of)
    # The relay respondents' role is there, labelled with the relay guide's list.
    relay = csv["respondent_type"] == "relay"
    roles = sav.loc[relay.to_numpy(), "role"].map(meta.variable_value_labels["role"])
    assert "Conseiller(ère) international(e)" in set(roles)
    assert roles.notna().all()
    assert "role" in user_missing


def test_every_dta_cell_says_what_the_csv_says(guides_ds, written) -> None:
    csv = pd.read_csv(written["csv"], dtype=str, keep_default_na=False).replace("", None)
    dta, meta = pyreadstat.read_dta(written["dta"], user_missing=True)
    by_letter = {letter: kind for kind, letter in STATA_MISSING.items()}

    def missing_of(value):
        return by_letter.get(value) if isinstance(value, str) and len(value) == 1 else None

    numeric = {c for c in dta.columns if meta.readstat_variable_types[c] != "string"}
    # a one-letter string in a numeric column is a Stata extended missing value (.a .b .c)
    stat = dta.astype(object)
    for column in set(dta.columns) - numeric:
        stat[column] = dta[column].map(
            lambda v: f"\0{v}" if isinstance(v, str) and len(v) == 1 else v
        )
    csv_cmp = csv.copy()
    for column in set(dta.columns) - numeric:
        csv_cmp[column] = csv[column].map(
            lambda v: f"\0{v}" if isinstance(v, str) and len(v) == 1 else v
        )
    _compare(guides_ds, csv_cmp, stat, meta.variable_value_labels, missing_of)


def test_dta_value_labels_are_named_after_their_variable_and_label_missing(written) -> None:
    _, meta = pyreadstat.read_dta(written["dta"], user_missing=True)
    assert meta.variable_to_label["role"] == "role"
    assert all(var == name for var, name in meta.variable_to_label.items())
    labels = meta.value_labels["role"]
    assert {labels["a"], labels["b"], labels["c"]} == {
        "Refus de répondre",
        "Ne sait pas",
        "Non posée",
    }
    with pd.io.stata.StataReader(written["dta"]) as reader:
        reader.read(convert_missing=True, convert_categoricals=False)
        assert "role" in reader.value_labels()


def test_sav_counts_and_integers_are_scale_and_whole(guides_ds, written) -> None:
    _, meta = pyreadstat.read_sav(written["sav"])
    integers = [
        k for g in guides_ds.instruments.values() for k, m in g.items() if m["type"] == "integer"
    ]
    counts = [c for c in meta.column_names if c.startswith("n_")]
    assert integers and counts
    for column in [*integers, *counts]:
        assert meta.variable_measure[column] == "scale", column
        assert meta.original_variable_types[column] == "F8.0", column
    assert meta.variable_measure["role"] == "nominal"


def test_pspp_reads_the_same_values(written, tmp_path: Path, pspp: str) -> None:
    out = tmp_path / "values.csv"
    syntax = tmp_path / "dump.sps"
    syntax.write_text(
        f"GET FILE='{written['sav']}'.\n"
        f"SAVE TRANSLATE /OUTFILE='{out}' /TYPE=CSV /FIELDNAMES /CELLS=LABELS /REPLACE.\n",
        encoding="utf-8",
    )
    result = subprocess.run([pspp, str(syntax)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "warning" not in result.stdout.lower(), result.stdout
    from_pspp = pd.read_csv(out, dtype=str, keep_default_na=False)
    sav, meta = pyreadstat.read_sav(written["sav"], user_missing=True, apply_value_formats=True)
    relay = sav["respondent_type"] == "relay"
    assert list(from_pspp.loc[relay.to_numpy(), "role"]) == list(sav.loc[relay, "role"])
    assert "Conseiller(ère) international(e)" in set(from_pspp["role"])
    for column in [c for c in sav.columns if c.startswith("n_")]:
        assert [float(v) for v in from_pspp[column]] == list(sav[column]), column
