"""Curated relay actors: those SIRENE does not show, added to the register's counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.registry import RegistryError, compute_registry

DATA = Path(__file__).resolve().parents[3] / "analysis" / "data"
DEMO = {
    "registry": DATA / "demo_registry.csv.gz",
    "geography": DATA / "demo_geography.csv",
    "population": DATA / "demo_population.csv",
    "area": DATA / "demo_area.csv",
}


def value(table: pd.DataFrame, code: str, indicator: str) -> float:
    hit = table[(table.territory_code == code) & (table.indicator == indicator)]
    assert len(hit) == 1, (code, indicator)
    return float(hit["value"].iloc[0])


def run(curated: Path | None = None):
    return compute_registry(
        DEMO["registry"],
        DEMO["geography"],
        ["departement"],
        DEMO["population"],
        DEMO["area"],
        curated=curated,
    )


def test_curated_actors_count_in_their_territory_and_nowhere_else(tmp_path: Path) -> None:
    listed = tmp_path / "curated.csv"
    listed.write_text(
        "CODGEO,category,name,source\n"
        "34172,team_france_export,Conseillère TFE Montpellier,CCI Occitanie 2026\n"
        "34172,team_france_export,Conseiller TFE,CCI Occitanie 2026\n"
        "69381,export_club,Club export (Lyon 1er),liste du club\n"  # arrondissement
        "99999,export_club,Nowhere,x\n",
        encoding="utf-8",
    )
    base, res = run(), run(listed)
    assert (
        value(res.table, "34", "count:team_france_export")
        == value(base.table, "34", "count:team_france_export") + 2
    )
    assert value(res.table, "34", "n_relay") == value(base.table, "34", "n_relay") + 2
    assert (
        value(res.table, "69", "count:export_club")
        == value(base.table, "69", "count:export_club") + 1
    )
    assert (
        value(res.table, "69", "count_family:networks")
        == value(base.table, "69", "count_family:networks") + 1
    )
    for code in ("30", "31"):  # other territories: every indicator but the LQ unchanged
        for ind in ("n_relay", "n_firms", "shannon", "density_per_10k_firms"):
            assert value(res.table, code, ind) == value(base.table, code, ind), (code, ind)
    assert value(res.table, "34", "n_firms") == value(base.table, "34", "n_firms")
    # the national rate the location quotient compares with counts them too
    n = {c: value(res.table, c, "n_relay") for c in ("30", "31", "34", "69")}
    e = {c: value(res.table, c, "n_firms") for c in n}
    rate = sum(n.values()) / sum(e.values())
    assert value(res.table, "30", "location_quotient") == pytest.approx(n["30"] / e["30"] / rate)
    assert res.info["curated_actors_added"] == 3
    assert res.info["curated_actors_unknown_commune"] == 1
    assert any("99999 (1)" in w for w in res.warnings)
    assert res.info["active_kept"] == base.info["active_kept"]  # establishments unchanged


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CODGEO,category\n34172,tfe\n", "unknown category tfe"),
        ("CODGEO,category\n34172,team_france_export\n,export_club\n", "line 3"),
        ("commune_name,category\nMontpellier,export_club\n", "needs a column CODGEO"),
    ],
)
def test_bad_curated_list_is_refused_before_the_scan(
    tmp_path: Path, text: str, message: str
) -> None:
    listed = tmp_path / "curated.csv"
    listed.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        run(listed)


def test_command_line_adds_the_curated_list(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from analysis.commands import analyse_group

    listed = tmp_path / "curated.csv"
    listed.write_text("codgeo,Category\n34172,team_france_export\n", encoding="utf-8")
    out = tmp_path / "d1d2.csv"
    res = CliRunner().invoke(
        analyse_group,
        [
            "registry",
            "--registry",
            str(DEMO["registry"]),
            "--geography",
            str(DEMO["geography"]),
            "--level",
            "departement",
            "--curated",
            str(listed),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "curated actors added: 1" in res.output
    table = pd.read_csv(out, dtype={"territory_code": str})
    assert (
        value(table, "34", "count:team_france_export")
        == value(run().table, "34", "count:team_france_export") + 1
    )
