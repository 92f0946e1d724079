"""Joining SIRENE's legal-unit stock (StockUniteLegale) to the establishments by siren.

The join keeps only the legal units that can change a classification; these tests hold it
to the register joined beforehand in full, row by row.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pytest

from analysis.registry import RegistryError, compute_registry
from analysis.typology import load_typology

UNIT_NAMES = [
    "",
    "Commune de Nîmes",
    "Chambre de commerce et d'industrie du Gard",
    "Commerce et d'industrie",
    "Banque Populaire du Sud",
    "Crédit agricole",
    "Association Club Export Occitanie",
    "SARL Martin",
    "Pôle de compétitivité",
    "commerce du Gard",
    "INTERNATIONAL TRADE",
    "x",
]
ESTABLISHMENT_NAMES = ["", "", "", "Agence Gard", "Chambre de", "CCI", "Club", "Boulangerie"]


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def draw(n: int, seed: int) -> list[dict]:
    """Establishments with their legal unit's category and name, each in its own commune."""
    typ = load_typology()
    rng = random.Random(seed)
    nafs = sorted({c for cat in typ.categories for r in cat.rules for c in r.naf})
    legal = sorted({c for cat in typ.categories for r in cat.rules for c in r.legal_categories})
    rows = []
    for i in range(n):
        rows.append(
            {
                "siren": f"{100_000_000 + i // 2}",  # two establishments per legal unit
                "siret": f"{100_000_000 + i // 2}{i % 2:05d}",
                "codeCommuneEtablissement": f"{10_000 + i}",
                "etatAdministratifEtablissement": "A",
                "activitePrincipaleEtablissement": rng.choice(nafs + ["56.10A", "47.11F"]),
                "nomenclatureActivitePrincipaleEtablissement": rng.choice(
                    ["NAFRev2"] * 5 + ["NAFRev1"]
                ),
                "enseigne1Etablissement": rng.choice(ESTABLISHMENT_NAMES),
                "categorieJuridiqueUniteLegale": rng.choice(legal + ["5499", "5710", "9220"]),
                "denominationUniteLegale": rng.choice(UNIT_NAMES),
            }
        )
    for r in rows[1::2]:  # the unit's values are the unit's, whichever establishment
        prev = rows[rows.index(r) - 1]
        r["categorieJuridiqueUniteLegale"] = prev["categorieJuridiqueUniteLegale"]
        r["denominationUniteLegale"] = prev["denominationUniteLegale"]
    return rows


ESTABLISHMENT_COLUMNS = [
    "siren",
    "siret",
    "codeCommuneEtablissement",
    "etatAdministratifEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "enseigne1Etablissement",
]
UNIT_COLUMNS = [
    "siren",
    "statutDiffusionUniteLegale",
    "categorieJuridiqueUniteLegale",
    "denominationUniteLegale",
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rows = draw(1500, seed=7)
    # a keyword that starts in the establishment's name and ends in the unit's
    rows[0].update(
        activitePrincipaleEtablissement="94.11Z",
        enseigne1Etablissement="Chambre de",
        categorieJuridiqueUniteLegale="9220",
        denominationUniteLegale="Commerce du Gard",
        nomenclatureActivitePrincipaleEtablissement="NAFRev2",
    )
    rows[1].update(categorieJuridiqueUniteLegale="9220", denominationUniteLegale="Commerce du Gard")
    units = {r["siren"]: {**r, "statutDiffusionUniteLegale": "O"} for r in rows}
    absent = "100000400"  # a unit missing from the legal-unit file
    joined = [
        dict(r, categorieJuridiqueUniteLegale="", denominationUniteLegale="")
        if r["siren"] == absent
        else r
        for r in rows
    ]
    units.pop(absent)
    geo = tmp_path / "geo.csv"
    with open(geo, "w", encoding="utf-8") as fh:
        fh.write("CODGEO,LIBGEO,DEP\n")
        fh.writelines(
            f"{r['codeCommuneEtablissement']},C,{i % 3 + 10}\n" for i, r in enumerate(rows)
        )
    return {
        "joined": write_csv(
            tmp_path / "joined.csv",
            joined,
            ESTABLISHMENT_COLUMNS + ["categorieJuridiqueUniteLegale", "denominationUniteLegale"],
        ),
        "register": write_csv(tmp_path / "stock.csv", rows, ESTABLISHMENT_COLUMNS),
        "units": write_csv(tmp_path / "units.csv", list(units.values()), UNIT_COLUMNS),
        "geography": geo,
    }


def test_join_gives_the_table_of_the_register_joined_in_full(files: dict[str, Path]) -> None:
    full = compute_registry(files["joined"], files["geography"], ["commune", "departement"])
    res = compute_registry(
        files["register"],
        files["geography"],
        ["commune", "departement"],
        legal_units=files["units"],
    )
    pd.testing.assert_frame_equal(res.table, full.table)
    # the join reads few units: those with a listed category or a name a keyword may use
    assert 0 < res.info["legal_units_kept"] < 700
    assert res.info["legal_units_unparsable"] == 0
    counted = full.table[
        full.table.indicator.str.startswith("count:") & (full.table.territory_level == "commune")
    ]
    assert counted["value"].sum() > 200  # the draw reaches relay categories, not only firms
    # the keyword split across the two names was found
    first = full.table[
        (full.table.territory_code == "10000") & (full.table.indicator == "count:chamber_commerce")
    ]
    assert first["value"].tolist() == [1.0]


def test_a_broken_line_of_the_legal_units_is_theirs_and_a_repeated_siren_counts_once(
    files: dict[str, Path],
) -> None:
    units = files["units"]
    lines = units.read_text(encoding="utf-8").splitlines()
    repeated = next(x for x in lines if ",7381," in x)
    units.write_text("\n".join(lines + [repeated, "999999999,O"]) + "\n", encoding="utf-8")
    full = compute_registry(files["joined"], files["geography"], ["departement"])
    res = compute_registry(
        files["register"], files["geography"], ["departement"], legal_units=units
    )
    pd.testing.assert_frame_equal(res.table, full.table)
    assert res.info["legal_units_unparsable"] == 1
    assert res.info["legal_units_listed_twice"] == 1
    assert res.malformed["unparsable"] == 0  # the register's own lines all parsed
    assert any(line.startswith("legal units kept:") for line in res.summary_lines())


def test_unrelated_file_as_legal_units_gives_a_warning(
    files: dict[str, Path], tmp_path: Path
) -> None:
    other = write_csv(
        tmp_path / "other.csv",
        [{"siren": "1", "categorieJuridiqueUniteLegale": "5499"}],
        ["siren", "categorieJuridiqueUniteLegale"],
    )
    res = compute_registry(
        files["register"], files["geography"], ["departement"], legal_units=other
    )
    assert res.info["legal_units_kept"] == 0
    assert any("StockUniteLegale" in w for w in res.warnings)


def test_bad_joins_are_refused_with_the_reason(files: dict[str, Path], tmp_path: Path) -> None:
    geo = files["geography"]
    with pytest.raises(RegistryError, match="already has categorieJuridiqueUniteLegale"):
        compute_registry(files["joined"], geo, ["departement"], legal_units=files["units"])
    no_siren = write_csv(tmp_path / "nosiren.csv", [], ESTABLISHMENT_COLUMNS[1:])
    with pytest.raises(RegistryError, match="lacks column siren"):
        compute_registry(no_siren, geo, ["departement"], legal_units=files["units"])
    bad_units = write_csv(tmp_path / "bad.csv", [], ["siren", "denominationUniteLegale"])
    with pytest.raises(RegistryError, match="lacks column.*categorieJuridiqueUniteLegale"):
        compute_registry(files["register"], geo, ["departement"], legal_units=bad_units)
    with pytest.raises(RegistryError, match="legal-unit file not found"):
        compute_registry(
            files["register"], geo, ["departement"], legal_units=tmp_path / "missing.csv"
        )
    xlsx = tmp_path / "units.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(RegistryError, match="unsupported legal-unit format"):
        compute_registry(files["register"], geo, ["departement"], legal_units=xlsx)


def test_command_line_joins_the_legal_units(files: dict[str, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from analysis.commands import analyse_group

    out = tmp_path / "d1d2.csv"
    res = CliRunner().invoke(
        analyse_group,
        [
            "registry",
            "--registry",
            str(files["register"]),
            "--geography",
            str(files["geography"]),
            "--level",
            "departement",
            "--legal-units",
            str(files["units"]),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "legal units kept:" in res.output
    full = compute_registry(files["joined"], files["geography"], ["departement"])
    written = pd.read_csv(
        out, dtype={"territory_code": str, "note": str}, keep_default_na=False, na_values=[""]
    )
    assert written["value"].sum() == pytest.approx(full.table["value"].sum())


def test_keywords_are_matched_as_text_not_as_patterns() -> None:
    import duckdb

    from analysis.registry import legal_units_sql
    from analysis.typology import parse_typology

    typ = parse_typology(
        {
            "version": "t",
            "families": {"f": {"label": {"en": "F"}}},
            "categories": [
                {
                    "key": "k",
                    "family": "f",
                    "imprecision": "x",
                    "label": {"en": "k"},
                    "rules": [
                        {"naf": ["94.99Z"], "name_keywords": ["S.A. (EXPORT)", "CLUB+ | ASSO"]}
                    ],
                }
            ],
        }
    )
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE u(siren VARCHAR, categorieJuridiqueUniteLegale VARCHAR,"
        " denominationUniteLegale VARCHAR)"
    )
    names = {
        "1": "s.a. (export) du Sud",
        "2": "SxA. (EXPORT)",
        "3": "club+ | asso",
        "4": "CLUBB | ASSO",
        "5": "| ASSO Occitanie",
        "6": "ASSO",
        "7": None,
    }
    con.executemany("INSERT INTO u VALUES (?, '5499', ?)", list(names.items()))
    kept = {
        r[0]
        for r in con.execute(
            legal_units_sql(
                "u", ["siren", "categorieJuridiqueUniteLegale", "denominationUniteLegale"], typ
            )
        ).fetchall()
    }
    # 5 and 6 may finish "CLUB+ | ASSO" begun in an establishment's name ("CLUB+" or
    # "CLUB+ |"); 2 and 4 only look alike to a pattern
    assert kept == {"1", "3", "5", "6"}
