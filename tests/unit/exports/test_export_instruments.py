"""The writers on the project's own interview guides (every question type they use)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis.datasets import Dataset, answers_wide, cases, variables
from analysis.synthetic_project import synthetic_dataset
from analysis.writers import WRITERS
from analysis.writers.refi import read_qdpx

ROOT = Path(__file__).resolve().parents[3]


def _answer(meta: dict) -> str:
    values = [c["value"] for c in meta["choices"]]
    kind = meta["type"]
    if kind == "select_multiple":
        return " ".join(values[:2])
    if kind == "consent":
        return "yes"
    if values:
        return values[-1]
    return {"integer": "12", "decimal": "3.5", "date": "2026-01-02"}.get(kind, "Réponse libre")


@pytest.fixture(scope="module")
def guides_ds() -> Dataset:
    model = pytest.importorskip("survey_app.instruments.definitions")
    guides = {}
    for name in ("sme_manager", "relay_actor"):
        instrument = model.load_instrument(ROOT / "instruments" / f"{name}.yaml")
        guides[(instrument.id, str(instrument.version))] = model.question_metadata(instrument)
    base = synthetic_dataset(n_interviews=6, n_codings=30, seed=5)
    interviews = base.interviews.copy()
    (sme, sme_v), (relay, relay_v) = list(guides)
    is_relay = interviews["respondent_type"] == "relay"
    interviews["instrument_id"] = [relay if r else sme for r in is_relay]
    interviews["instrument_version"] = [relay_v if r else sme_v for r in is_relay]
    rows = []
    for iv in interviews.itertuples():
        for n, (key, meta) in enumerate(guides[(iv.instrument_id, iv.instrument_version)].items()):
            missing = ["dont_know", "refused", None][n % 3] if meta["type"] == "likert" else None
            rows.append(
                {
                    "interview_id": iv.interview_id,
                    "question_key": key,
                    "value": None if missing else _answer(meta),
                    "missing": missing,
                }
            )
    base.interviews, base.instruments = interviews, guides
    base.answers_long = pd.DataFrame(rows)
    return base


def test_case_table_has_every_question_once(guides_ds: Dataset) -> None:
    table = cases(guides_ds)
    assert table.columns.is_unique
    keys = {k for guide in guides_ds.instruments.values() for k in guide}
    wide = set(answers_wide(guides_ds).columns)
    assert keys - wide <= {
        k
        for guide in guides_ds.instruments.values()
        for k, m in guide.items()
        if m["type"] == "select_multiple"
    }
    assert set(variables(guides_ds)["variable"]) >= set(table.columns)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_format_writes_the_guides(guides_ds: Dataset, tmp_path: Path, fmt: str) -> None:
    paths = WRITERS[fmt](guides_ds, tmp_path / f"guides.{fmt}")
    assert paths[0].exists()


def test_guides_sav_reads_in_pyreadstat_and_pspp(
    guides_ds: Dataset, tmp_path: Path, pspp: str
) -> None:
    WRITERS["sav"](guides_ds, tmp_path / "g.sav", dictionary=False)
    _, meta = pyreadstat.read_sav(tmp_path / "g.sav", user_missing=True)
    consent = meta.variable_value_labels["consent_data"]
    assert set(consent.values()) >= {"Oui", "Non"}
    syntax = tmp_path / "g.sps"
    syntax.write_text(f"GET FILE='{tmp_path / 'g.sav'}'.\nDISPLAY DICTIONARY.\n", encoding="utf-8")
    result = subprocess.run(
        [pspp, "-O", "format=csv", "-o", str(tmp_path / "g.csv"), str(syntax)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "warning" not in result.stderr.lower(), result.stderr
    assert "-99; -98; -97" in (tmp_path / "g.csv").read_text(encoding="utf-8")


def test_guides_qdpx_round_trip(guides_ds: Dataset, tmp_path: Path) -> None:
    WRITERS["qdpx"](guides_ds, tmp_path / "g.qdpx")
    back = read_qdpx(tmp_path / "g.qdpx")
    assert len(back.codings) == len(guides_ds.codings)
    assert len(back.cases) == len(guides_ds.interviews)
