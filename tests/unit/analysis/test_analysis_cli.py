"""The `milieu analyse` commands, run through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis import synthetic_registry as synth
from analysis.commands import analyse_group
from analysis.indices import DENSITY_INDICATORS, DIVERSITY_INDICATORS
from analysis.typology import load_typology

DATA = Path(__file__).resolve().parents[3] / "analysis" / "data"
COLUMNS = [
    "territory_level",
    "territory_code",
    "territory_name",
    "indicator",
    "value",
    "ci_low",
    "ci_high",
    "note",
]


def run(*args: str) -> object:
    return CliRunner().invoke(analyse_group, list(args))


def test_registry_writes_exact_columns_and_indicator_names(tmp_path: Path) -> None:
    out = tmp_path / "d1d2.csv"
    res = run(
        "registry",
        "--registry",
        str(DATA / "demo_registry.csv.gz"),
        "--geography",
        str(DATA / "demo_geography.csv"),
        "--level",
        "departement",
        "--level",
        "zone_emploi",
        "--population",
        str(DATA / "demo_population.csv"),
        "--area",
        str(DATA / "demo_area.csv"),
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, dtype={"territory_code": str})
    assert list(table.columns) == COLUMNS
    typ = load_typology()
    expected = (
        set(DENSITY_INDICATORS)
        | set(DIVERSITY_INDICATORS)
        | {f"count:{k}" for k in typ.category_keys}
        | {f"count_family:{f}" for f in typ.family_keys}
    )
    assert set(table["indicator"]) == expected
    assert set(table["territory_level"]) == {"departement", "zone_emploi"}
    per_territory = table.groupby(["territory_level", "territory_code"]).size()
    assert (per_territory == len(expected)).all()
    assert "line could not be parsed" in res.output  # malformed rows reported on stderr


def test_registry_parquet_output(tmp_path: Path) -> None:
    out = tmp_path / "d1d2.parquet"
    res = run(
        "registry",
        "--registry",
        str(DATA / "demo_registry.csv.gz"),
        "--geography",
        str(DATA / "demo_geography.csv"),
        "--level",
        "region",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert list(pd.read_parquet(out).columns) == COLUMNS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "missing.csv"], "registry file not found"),
        (["--out", "x.xlsx"], "use a file ending in .csv or .parquet"),
        (["--level", "canton"], "canton"),
    ],
)
def test_registry_bad_input_is_one_line_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    base = {
        "--registry": str(DATA / "demo_registry.csv.gz"),
        "--geography": str(DATA / "demo_geography.csv"),
        "--level": "departement",
        "--out": str(tmp_path / "o.csv"),
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    res = run("registry", *[x for kv in base.items() for x in kv])
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o.csv").exists()


def test_registry_missing_column_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "stock.csv"
    bad.write_text(
        "siret,etatAdministratifEtablissement,codeCommuneEtablissement\n12345678900011,A,34172\n",
        encoding="utf-8",
    )
    res = run(
        "registry",
        "--registry",
        str(bad),
        "--geography",
        str(DATA / "demo_geography.csv"),
        "--level",
        "departement",
        "--out",
        str(tmp_path / "o.csv"),
    )
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == (
        "Error: registry lacks required column(s): activitePrincipaleEtablissement, "
        "nomenclatureActivitePrincipaleEtablissement"
    )


def test_profile_and_report_end_to_end(tmp_path: Path) -> None:
    reg = tmp_path / "reg.csv"
    assert (
        run(
            "registry",
            "--registry",
            str(DATA / "demo_registry.csv.gz"),
            "--geography",
            str(DATA / "demo_geography.csv"),
            "--level",
            "departement",
            "--out",
            str(reg),
        ).exit_code
        == 0
    )
    data = tmp_path / "tidy"
    synth.write_demo_interviews(data)
    out = tmp_path / "profile"
    res = run(
        "profile",
        "--registry-table",
        str(reg),
        "--data",
        str(data),
        "--out",
        str(out),
        "--bootstrap",
        "50",
        "--seed",
        "5",
    )
    assert res.exit_code == 0, res.output
    prof = pd.read_csv(out / "profile.csv", dtype={"territory_code": str})
    assert set(prof["territory_code"]) == {"30", "31", "34", "69"}
    assert set(prof["dimension"]) == {"D1", "D2", "D3", "D4_GOV", "D4_STRAT", "composite"}
    assert prof["value"].between(0, 1).all()
    for name in ("territory_34.png", "territory_34.svg", "comparison.png", "comparison.svg"):
        assert (out / "charts" / name).stat().st_size > 1000
    assert json.loads((out / "profile_meta.json").read_text())["settings"]["seed"] == 5
    html = tmp_path / "again.html"
    assert run("report", "--profile", str(out), "--out", str(html)).exit_code == 0
    assert html.read_text(encoding="utf-8") == (out / "report.html").read_text(encoding="utf-8")
    # French unless asked otherwise
    assert '<html lang="fr">' in html.read_text(encoding="utf-8")
    assert "D1 Densité" in (out / "charts" / "territory_34.svg").read_text(encoding="utf-8")
    res = run(
        "report",
        "--profile",
        str(out),
        "--out",
        str(tmp_path / "en.html"),
        "--charts",
        str(tmp_path / "charts_en"),
        "--lang",
        "en",
    )
    assert res.exit_code == 0, res.output
    english = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "Scale reliability" in english
    assert "D1 Density" in (tmp_path / "charts_en" / "comparison.svg").read_text(encoding="utf-8")


def test_profile_in_english(tmp_path: Path) -> None:
    data = tmp_path / "tidy"
    synth.write_demo_interviews(data)
    out = tmp_path / "profile"
    res = run(
        "profile",
        "--data",
        str(data),
        "--out",
        str(out),
        "--bootstrap",
        "0",
        "--territory",
        "34",
        "--lang",
        "en",
    )
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "<h2>Comparison</h2>" in html
    svg = (out / "charts" / "territory_34.svg").read_text(encoding="utf-8")
    assert "missing: D1 Density, D2 Diversity" in svg  # no registry table given
    # the data files keep their names and values whatever the language
    prof = pd.read_csv(out / "profile.csv", dtype={"territory_code": str})
    assert set(prof["dimension"]) == {"D1", "D2", "D3", "D4_GOV", "D4_STRAT", "composite"}


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("profile", ["--data", ".", "--out", "profile"]),
        ("report", ["--profile", ".", "--out", "report.html"]),
    ],
)
def test_unknown_language_is_a_usage_error(tmp_path: Path, command: str, args: list[str]) -> None:
    res = run(command, *[str(tmp_path / a) for a in args], "--lang", "de")
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        "Error: Invalid value for '--lang': 'de' is not one of 'fr', 'en'."
    )
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_profile_reports_missing_interview_column(tmp_path: Path) -> None:
    data = tmp_path / "tidy"
    synth.write_demo_interviews(data)
    iv = pd.read_csv(data / "interviews.csv").drop(columns=["org_id"])
    iv.to_csv(data / "interviews.csv", index=False)
    res = run("profile", "--data", str(data), "--out", str(tmp_path / "p"))
    assert res.exit_code == 1
    assert "Error: interviews table lacks column(s): org_id" in res.output
    assert not (tmp_path / "p").exists()


def test_help_documents_profile_inputs() -> None:
    res = run("profile", "--help")
    assert res.exit_code == 0
    for word in (
        "--registry-table",
        "--data",
        "answers_long",
        "questions.json",
        "--seed",
        "--lang [fr|en]",
    ):
        assert word in res.output


def test_help_documents_report_language() -> None:
    res = run("report", "--help")
    assert res.exit_code == 0
    assert "--lang [fr|en]" in res.output and "default: fr" in res.output
