"""Registry reader: columns by name, filters, arrondissements, malformed rows, indicators."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.registry import RegistryError, compute_registry, map_arrondissement
from analysis.typology import load_typology


def value(table: pd.DataFrame, level: str, code: str, indicator: str) -> float:
    hit = table[
        (table.territory_level == level)
        & (table.territory_code == code)
        & (table.indicator == indicator)
    ]
    assert len(hit) == 1, (level, code, indicator)
    return float(hit["value"].iloc[0])


def note(table: pd.DataFrame, code: str, indicator: str) -> str:
    hit = table[(table.territory_code == code) & (table.indicator == indicator)]
    return str(hit["note"].iloc[0])


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("75101", "75056"),
        ("75120", "75056"),
        ("69381", "69123"),
        ("69389", "69123"),
        ("13201", "13055"),
        ("13216", "13055"),
        ("75121", "75121"),
        ("13217", "13217"),
        ("34172", "34172"),
        ("2A004", "2A004"),
    ],
)
def test_arrondissements_map_to_their_commune(code: str, parent: str) -> None:
    assert map_arrondissement(code) == parent


def test_counts_by_category_with_reordered_extra_columns(register: Path, geography: Path) -> None:
    res = compute_registry(register, geography, ["departement", "commune"])
    t = res.table
    assert value(t, "departement", "34", "count:chamber_commerce") == 1
    assert value(t, "departement", "34", "count:bank") == 1  # closed and NAFRev1 banks out
    assert value(t, "departement", "34", "count:consultancy") == 1
    assert value(t, "departement", "34", "n_relay") == 3
    assert value(t, "departement", "34", "n_firms") == 3  # 2 firms + the NAFRev1 bank
    assert value(t, "departement", "34", "count_family:consular_state") == 1
    assert value(t, "departement", "34", "count_family:finance_insurance") == 1
    # Lyon arrondissements counted in Lyon
    assert value(t, "commune", "69123", "count:employers_organisation") == 1
    assert value(t, "commune", "69123", "count:translation") == 1
    assert value(t, "commune", "69123", "n_firms") == 0
    assert set(t.loc[t.territory_level == "commune", "territory_code"]) == {
        "34172",
        "34032",
        "69123",
        "69266",
    }
    # reference rate over the whole file: 5 relays / 5 firms
    assert value(t, "departement", "34", "location_quotient") == pytest.approx(1.0)
    assert value(t, "departement", "69", "location_quotient") == pytest.approx(1.0)
    assert math.isnan(value(t, "commune", "69123", "location_quotient"))
    assert note(t, "69123", "location_quotient") == "firm base is zero"


def test_malformed_rows_are_counted_not_dropped_silently(
    register: Path, geography: Path, regdata
) -> None:
    res = compute_registry(register, geography, ["departement"])
    assert res.malformed == {
        "bad_siret": 1,
        "bad_state": 0,
        "missing_commune": 1,
        "unknown_commune": 1,
        "unparsable": 1,
    }
    assert res.info["rows_read"] == len(regdata.ROWS) + 1
    assert res.info["inactive"] == 1
    assert res.info["active_kept"] == 10
    assert res.info["active_not_nafrev2"] == 1
    assert any("34999" in w for w in res.warnings)


def test_missing_required_column_is_named(tmp_path: Path, geography: Path, regdata) -> None:
    cols = [c for c in regdata.COLUMNS if c != "activitePrincipaleEtablissement"]
    path = regdata.write_register(tmp_path / "short.csv", columns=cols)
    with pytest.raises(RegistryError, match="activitePrincipaleEtablissement"):
        compute_registry(path, geography, ["departement"])


def test_employers_only_needs_its_column_and_shrinks_the_base(
    tmp_path: Path, geography: Path, regdata
) -> None:
    path = regdata.write_register(tmp_path / "s.csv")
    res = compute_registry(path, geography, ["departement"], employers_only=True)
    assert value(res.table, "departement", "34", "n_firms") == 1
    assert value(res.table, "departement", "69", "n_firms") == 2
    cols = [c for c in regdata.COLUMNS if c != "caractereEmployeurEtablissement"]
    path = regdata.write_register(tmp_path / "noemp.csv", columns=cols)
    with pytest.raises(RegistryError, match="caractereEmployeurEtablissement"):
        compute_registry(path, geography, ["departement"], employers_only=True)


def test_parquet_and_gzip_registers_give_the_same_table(
    tmp_path: Path, register: Path, geography: Path, regdata
) -> None:
    import gzip
    import shutil

    pq = tmp_path / "stock.parquet"
    pd.DataFrame(regdata.ROWS)[list(reversed(regdata.COLUMNS))].to_parquet(pq)
    gz = tmp_path / "stock.csv.gz"
    with open(register, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    base = compute_registry(register, geography, ["region"]).table
    pd.testing.assert_frame_equal(compute_registry(pq, geography, ["region"]).table, base)
    pd.testing.assert_frame_equal(compute_registry(gz, geography, ["region"]).table, base)


@pytest.mark.parametrize("numbers", ["int64", "float64"])
def test_parquet_with_codes_stored_as_numbers_reads_as_the_csv(
    tmp_path: Path, numbers: str
) -> None:
    # A Parquet file converted with type guessing: sirets, communes and legal categories
    # as numbers (floats where pandas met a missing value), leading zeros gone.
    text = pd.DataFrame(
        {
            "siret": ["00552081317017", "12345678900011", "1234567890123456", "12345678900029"],
            "etatAdministratifEtablissement": ["A", "A", "A", "A"],
            "codeCommuneEtablissement": ["01001", "34172", "34172", "34172"],
            "activitePrincipaleEtablissement": ["94.11Z", "56.10A", "56.10A", "94.11Z"],
            "nomenclatureActivitePrincipaleEtablissement": ["NAFRev2"] * 4,
            "categorieJuridiqueUniteLegale": ["7381", "5499", "5499", "7381"],
        }
    )
    csv_path = tmp_path / "stock.csv"
    text.to_csv(csv_path, index=False)
    typed = text.copy()
    for col in ("siret", "codeCommuneEtablissement", "categorieJuridiqueUniteLegale"):
        typed[col] = typed[col].astype("int64").astype(numbers)
    if numbers == "float64":
        typed.loc[len(typed)] = [None, "A", 34172.0, "56.10A", "NAFRev2", 5499.0]
    pq = tmp_path / "stock.parquet"
    typed.to_parquet(pq)
    geo = tmp_path / "geo.csv"
    geo.write_text(
        "CODGEO,LIBGEO,DEP\n01001,L'Abergement,01\n34172,Montpellier,34\n", encoding="utf-8"
    )
    from_csv = compute_registry(csv_path, geo, ["departement"])
    from_parquet = compute_registry(pq, geo, ["departement"])
    pd.testing.assert_frame_equal(from_parquet.table, from_csv.table)
    assert from_csv.malformed["bad_siret"] == 1  # the 16-digit number stays too long
    assert from_parquet.malformed["bad_siret"] == (2 if numbers == "float64" else 1)
    assert value(from_parquet.table, "departement", "01", "n_relay") == 1


def test_population_area_and_insee_xlsx_geography(
    tmp_path: Path, register: Path, population: Path, regdata
) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "COM"
    ws.append(["Table d'appartenance géographique des communes au 1er janvier 2024"])
    ws.append(["Source : Insee, Code officiel géographique"])
    ws.append([])
    ws.append(
        [
            "Code géographique",
            "Libellé",
            "Département",
            "Région",
            "EPCI",
            "Zone d'emploi 2020",
            "Libellé département",
        ]
    )
    for r in regdata.GEOGRAPHY:
        ws.append(list(r))
    geo = tmp_path / "table-appartenance-geo-communes.xlsx"
    wb.save(geo)
    area = tmp_path / "area.csv"
    area.write_text(
        "CODGEO,SUPERF\n34172,56.88\n34032,95.48\n69123,47.87\n69266,14.52\n", encoding="utf-8"
    )
    res = compute_registry(
        register, geo, ["departement", "zone_emploi", "commune"], population=population, area=area
    )
    t = res.table
    assert value(t, "departement", "34", "density_per_100k_inhabitants") == pytest.approx(
        1e5 * 3 / 380_000
    )
    assert value(t, "departement", "34", "density_per_km2") == pytest.approx(3 / (56.88 + 95.48))
    assert math.isnan(value(t, "commune", "69266", "density_per_100k_inhabitants"))
    assert note(t, "69266", "density_per_100k_inhabitants") == "population is zero"
    assert (
        t.loc[
            (t.territory_code == "34") & (t.territory_level == "departement"), "territory_name"
        ].iloc[0]
        == "Hérault"
    )
    assert value(t, "zone_emploi", "8420", "n_relay") == 2


def test_geography_without_needed_column_is_an_error(tmp_path: Path, register: Path) -> None:
    geo = tmp_path / "g.csv"
    geo.write_text("CODGEO,LIBGEO,DEP\n34172,Montpellier,34\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="ZE2020"):
        compute_registry(register, geo, ["zone_emploi"])


def test_demo_extract_covers_every_family_and_reports_its_flaws() -> None:
    data = Path(__file__).resolve().parents[3] / "analysis" / "data"
    res = compute_registry(
        data / "demo_registry.csv.gz",
        data / "demo_geography.csv",
        ["departement"],
        population=data / "demo_population.csv",
        area=data / "demo_area.csv",
    )
    t = res.table
    assert set(t["territory_code"]) == {"30", "31", "34", "69"}
    for fam in load_typology().family_keys:
        assert value(t, "departement", "69", f"count_family:{fam}") > 0, fam
    assert res.malformed["bad_siret"] == 2
    assert res.malformed["unparsable"] == 1
    assert res.malformed["unknown_commune"] == 1
    assert res.malformed["missing_commune"] == 1
    assert res.info["inactive"] > 0 and res.info["active_not_nafrev2"] > 0
    per_dep = t[t.indicator.str.startswith("count_family:")].groupby("territory_code")["value"]
    n_relay = t[t.indicator == "n_relay"].set_index("territory_code")["value"]
    assert per_dep.sum().to_dict() == n_relay.to_dict()


def test_sql_and_python_arrondissement_mappings_agree() -> None:
    import duckdb

    from analysis.registry import arrondissement_sql

    codes = [
        "75100",
        "75101",
        "75115",
        "75120",
        "75121",
        "69380",
        "69381",
        "69389",
        "69390",
        "13200",
        "13201",
        "13216",
        "13217",
        "751015",
        " 69383",
        "2B033",
    ]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT c, {arrondissement_sql('c')} FROM unnest(?) t(c)", [codes]
    ).fetchall()
    assert {c: m for c, m in rows} == {c: map_arrondissement(c) for c in codes}


def test_codes_stored_as_numbers_get_their_leading_zeros_back() -> None:
    from analysis.registry import pad_code

    codes = pd.Series(["1001", " 34172", "2A004", "6", None])
    assert pad_code(codes, 5).tolist() == ["01001", "34172", "2A004", "00006", None]


def test_closed_rows_count_as_inactive_whatever_their_siret(
    tmp_path: Path, geography: Path, regdata
) -> None:
    row = regdata.row
    rows = [
        row("34172", "56.10A", siret="12345", state="F"),  # closed: inactive
        row("34172", "56.10A", siret="1234567890123X", state="F"),
        row("34172", "56.10A", siret="12345"),  # active: bad siret
        row("34172", "56.10A", siret="1234567890123X", state="?"),  # not closed: bad siret
        row("34172", "56.10A", state="?"),  # bad state
        row("34172", "56.10A", siret=""),  # blank: bad siret
        row("34172", "56.10A", siret="1234567890123é"),  # 14 characters
        row("34172", "56.10A", siret="12345678901é"),  # 14 bytes
        # 14 characters that a number cast would take: sign, spaces, hex, separators.
        row("34172", "56.10A", siret="+1234567890123"),
        row("34172", "56.10A", siret=" 1234567890123"),
        row("34172", "56.10A", siret="1234567890123 "),
        row("34172", "56.10A", siret="0x3456789012ab"),
        row("34172", "56.10A", siret="1_345678901234"),
        # ... and exponents, which a number cast reads as 10^13 from 11 digits.
        row("34172", "56.10A", siret="1000000000e004"),
        row("34172", "56.10A", siret="1.00000000E013"),
        row("34172", "56.10A", siret="00000000000000"),  # leading zeros: fine
        row("34172", "56.10A"),
    ]
    path = regdata.write_register(tmp_path / "r.csv", rows, broken_line=False)
    res = compute_registry(path, geography, ["departement"])
    assert res.info["inactive"] == 2
    assert res.malformed["bad_siret"] == 12
    assert res.malformed["bad_state"] == 1
    assert res.info["active_kept"] == 2


def siret_probes(n: int, seed: int) -> list[str]:
    """Texts of 13 to 15 characters, mostly digits, with characters a number cast or a
    careless regular expression might take: spaces, signs, separators, exponents, hex and
    binary marks, non-ASCII digits."""
    rng = random.Random(seed)
    odd = list(" \t\n+-._,'eExXbBoOiInNfFaA/é") + ["\u00a0", "\uff11", "\u0663"]
    out = []
    for _ in range(n):
        chars = [rng.choice("0123456789") for _ in range(rng.choice([13, 14, 14, 14, 15]))]
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            chars[rng.randrange(len(chars))] = rng.choice(odd)
        if rng.random() < 0.5:
            chars[0] = rng.choice("123456789")
        out.append("".join(chars))
    # mantissa, exponent mark and exponent sized so that the number is 10^13 or more
    for mant in range(1, 12):
        exp = 14 - mant - 1
        out += [f"{'1' + '0' * (mant - 1)}{mark}{13 - mant + 1:0{exp}d}" for mark in "eE"]
    return out


def test_siret_check_accepts_exactly_fourteen_ascii_digits() -> None:
    import duckdb

    from analysis.registry import siret_ok_sql

    probes = siret_probes(30_000, seed=6) + [
        "12345678901234",
        "01234567890123",
        "00000000000000",
        "99999999999999",
        "10000000000000",
        "1000000000e004",
        "1.00000000e013",
        "9999999999999.",
        "999999999999.9",
        "1234567890123 ",
        "1 234567890123",
        "123456789012345",
        "",
        "1234567890123\n",
    ]
    con = duckdb.connect()
    got = dict(
        con.execute(
            f"SELECT s, {siret_ok_sql('s')} FROM unnest(?::VARCHAR[]) t(s)", [probes]
        ).fetchall()
    )
    want = {s: re.fullmatch("[0-9]{14}", s) is not None for s in probes}
    assert got == want
    assert sum(want.values()) > 3_000  # the quick test is exercised, not only the fallback
    assert con.execute(f"SELECT {siret_ok_sql('NULL::VARCHAR')}").fetchone() == (False,)
