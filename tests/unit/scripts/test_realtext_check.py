"""scripts/realtext_check.py: bad files are refused in one line, and the figures it prints.

The input here is the project's own: the codebook's example for every code (labelled with
its family) and a few on-topic sentences with no theme, written for this test.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from coding.codebook import default_codebook

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "realtext_check.py"

NO_THEME = [
    "Le département compte environ douze mille établissements industriels.",
    "Les exportations françaises de vin ont progressé de trois pour cent l'an dernier.",
    "L'entreprise a été fondée en 1987 par deux ingénieurs de Montpellier.",
    "Nous fabriquons des pièces en aluminium pour l'aéronautique et le naval.",
    "La zone d'emploi regroupe quarante communes autour de la ville-centre.",
    "Le chiffre d'affaires a atteint six millions d'euros cette année.",
]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("realtext_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def adjudicated(tmp_path) -> Path:
    cb = default_codebook()
    rows = [
        {"id": f"ex{i}", "text": cb.code_map[c].example.strip("«» "), "families": cb.family_of(c)}
        for i, c in enumerate(cb.codes)
    ]
    rows += [{"id": f"no{i}", "text": t, "families": ""} for i, t in enumerate(NO_THEME)]
    path = tmp_path / "adjudicated.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_file_without_the_families_column_is_refused_in_one_line(script, tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,Une phrase.\n", encoding="utf-8")
    assert script.main([str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip() == f"Error: {path}: missing column 'families'"


def test_an_unknown_family_is_refused_with_its_row(script, tmp_path, capsys):
    path = tmp_path / "x.csv"
    rows = "".join(f"{i},Phrase {i}.,GOVERNANCE\n" for i in range(11))
    path.write_text("id,text,families\n" + rows + "11,Autre.,STRATEGIE\n", encoding="utf-8")
    assert script.main([str(path)]) == 2
    assert "unknown family 'STRATEGIE' in data row 12" in capsys.readouterr().err


def test_prints_the_cold_start_and_the_five_fold_figures(script, adjudicated, capsys):
    assert script.main([str(adjudicated), "--sizes", "--candidate", "tfidf", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n"] == len(default_codebook().codes) + len(NO_THEME)
    # the shipped model knows the codebook's own examples: the cold start agrees with them
    assert figures["cold_start"]["mean"] > 0.5
    (run,) = figures["results"]
    assert run["train_size"] == "all"
    assert run["candidates"] == ["tfidf"] * 5
    assert set(run["pooled"]) == {"GOVERNANCE", "STRATEGY", "DYNAMICS", "mean"}


def test_repeats_average_the_pooled_figures_over_seeds(script, adjudicated, capsys):
    args = [str(adjudicated), "--sizes", "--candidate", "tfidf", "--repeats", "2", "--json"]
    assert script.main(args) == 0
    figures = json.loads(capsys.readouterr().out)
    runs = figures["results"]
    assert [r["seed"] for r in runs] == [0, 1]
    (avg,) = figures["averages"]
    assert avg["train_size"] == "all" and avg["repeats"] == 2
    means = [r["pooled"]["mean"] for r in runs]
    assert avg["mean"] == pytest.approx(sum(means) / 2, abs=0.001)
    assert avg["low"] == min(means) and avg["high"] == max(means)


def test_repeats_below_one_is_a_usage_error(script, adjudicated, capsys):
    with pytest.raises(SystemExit) as exc:
        script.main([str(adjudicated), "--repeats", "0"])
    assert exc.value.code == 2
    assert "--repeats must be at least 1" in capsys.readouterr().err
