"""Fixtures of the analysis tests: a small register, its geography and population."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

# Column order deliberately differs from SIRENE's, with an extra column at the front.
COLUMNS = [
    "extraColumn",
    "codeCommuneEtablissement",
    "siret",
    "activitePrincipaleEtablissement",
    "etatAdministratifEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "categorieJuridiqueUniteLegale",
    "denominationUsuelleEtablissement",
]


def row(
    commune: str,
    naf: str,
    *,
    siret: str = "12345678900011",
    state: str = "A",
    nom: str = "NAFRev2",
    employer: str = "N",
    cj: str = "5710",
    name: str = "",
) -> dict:
    return {
        "extraColumn": "x",
        "codeCommuneEtablissement": commune,
        "siret": siret,
        "activitePrincipaleEtablissement": naf,
        "etatAdministratifEtablissement": state,
        "nomenclatureActivitePrincipaleEtablissement": nom,
        "caractereEmployeurEtablissement": employer,
        "categorieJuridiqueUniteLegale": cj,
        "denominationUsuelleEtablissement": name,
    }


# Hérault (34): a CCI, a bank branch, a consultant, two ordinary firms (one employer), a
# bank under an old NAF (counts as a firm), a closed bank (ignored).
# Rhône (69): Lyon arrondissements 69381/69383 (a federation and a translator) and two
# firms in Villeurbanne. Malformed: short siret, unknown commune, missing commune.
ROWS = [
    row("34172", "94.11Z", cj="7381", name="CCI Hérault"),
    row("34172", "64.19Z"),
    row("34032", "70.22Z"),
    row("34172", "56.10A", employer="O"),
    row("34032", "47.11F"),
    row("34172", "64.19Z", nom="NAFRev1"),
    row("34172", "64.19Z", state="F"),
    row("69381", "94.11Z"),
    row("69383", "74.30Z"),
    row("69266", "56.10A", employer="O"),
    row("69266", "62.01Z", employer="O"),
    row("34172", "56.10A", siret="1234567890"),
    row("34999", "56.10A"),
    row("", "56.10A"),
]

GEOGRAPHY = [
    ("CODGEO", "LIBGEO", "DEP", "REG", "EPCI", "ZE2020", "LIBDEP"),
    ("34172", "Montpellier", "34", "76", "243400017", "7616", "Hérault"),
    ("34032", "Béziers", "34", "76", "243400769", "7605", "Hérault"),
    ("69123", "Lyon", "69", "84", "200046977", "8420", "Rhône"),
    ("69266", "Villeurbanne", "69", "84", "200046977", "8420", "Rhône"),
    ("13055", "Marseille", "13", "93", "200054807", "9310", "Bouches-du-Rhône"),
]


def write_register(
    path: Path, rows: list[dict] = ROWS, columns: list[str] = COLUMNS, broken_line: bool = True
) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow(r)
            if broken_line and i == 2:
                fh.write("x,34172,12345678900011,70.22Z\n")  # too few fields
    return path


def write_geography(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(GEOGRAPHY)
    return path


@pytest.fixture
def register(tmp_path: Path) -> Path:
    return write_register(tmp_path / "stock.csv")


@pytest.fixture
def geography(tmp_path: Path) -> Path:
    return write_geography(tmp_path / "geo.csv")


@pytest.fixture
def population(tmp_path: Path) -> Path:
    path = tmp_path / "pop.csv"
    path.write_text(
        "CODGEO;PMUN\n34172;300 000\n34032;80000\n69123;500000\n69266;0\n13055;870000\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def regdata() -> SimpleNamespace:
    """The register rows, columns and helpers, for tests that vary them."""
    return SimpleNamespace(
        COLUMNS=COLUMNS, ROWS=ROWS, GEOGRAPHY=GEOGRAPHY, row=row, write_register=write_register
    )
