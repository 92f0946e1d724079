"""Deterministic synthetic SIRENE-format data: the demo extract and full-scale bench files.

The demo covers four départements (Hérault 34, Gard 30, Rhône 69 with the Lyon
arrondissements, Haute-Garonne 31). Commune codes and names are real; populations and areas
are rounded legal figures; zone d'emploi codes are illustrative, not INSEE's. Establishments,
names and sirets are invented.

The full-scale file keeps the shape of INSEE's StockEtablissement, which holds every
establishment since 1973, closed ones included: about 61% of its rows are closed
(api.gouv.fr, "Quelle API Sirene utiliser ?": 28 million establishments, 11 million active).

    python -m analysis.synthetic_registry --demo DIR      # rewrite analysis/data/ style files
    python -m analysis.synthetic_registry --rows 30000000 --out FILE [--geography FILE]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis.file_io import atomic_path

# The header of INSEE's StockEtablissement file, plus the legal category and name of the
# legal unit, which analysts join from StockUniteLegale before running the counts.
SIRENE_COLUMNS = [
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "dateDebut",
    "etatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "categorieJuridiqueUniteLegale",
]

# Ordinary activity mix (NAF rév. 2, weight per 1,000 establishments), with the relay NAF
# codes at roughly their national frequency.
NAF_MIX = [
    ("68.20A", 60),
    ("68.20B", 55),
    ("47.11F", 12),
    ("56.10A", 45),
    ("56.30Z", 20),
    ("43.21A", 30),
    ("43.22A", 25),
    ("43.99C", 25),
    ("41.20A", 15),
    ("86.21Z", 25),
    ("86.90D", 20),
    ("96.02A", 25),
    ("62.01Z", 20),
    ("62.02A", 10),
    ("69.20Z", 10),
    ("71.12B", 15),
    ("74.10Z", 15),
    ("85.59A", 20),
    ("90.01Z", 15),
    ("49.32Z", 15),
    ("01.11Z", 30),
    ("10.71C", 8),
    ("25.62B", 6),
    ("45.20A", 12),
    ("47.71Z", 20),
    ("47.91B", 15),
    ("55.10Z", 10),
    ("93.12Z", 15),
    ("94.99Z", 60),
    ("81.21Z", 10),
    ("64.20Z", 30),
    ("66.19B", 5),
    ("73.11Z", 10),
    ("84.11Z", 8),
    ("88.10A", 10),
    ("70.10Z", 30),
    ("82.11Z", 5),
    # relay NAF codes (generic rules pick these up)
    ("70.22Z", 45),
    ("46.19B", 4),
    ("46.18Z", 3),
    ("46.11Z", 2),
    ("46.14Z", 2),
    ("52.29B", 2),
    ("82.30Z", 2),
    ("73.20Z", 2),
    ("74.30Z", 4),
    ("64.19Z", 5),
    ("65.12Z", 1),
    ("66.22Z", 8),
    ("94.11Z", 1),
    ("94.12Z", 2),
    ("85.42Z", 1),
]
LEGAL_MIX = [("1000", 55), ("5499", 12), ("5710", 20), ("5720", 5), ("6540", 4), ("9220", 4)]

# Named relay actors: (NAF, legal category, name, where: 'dep' = prefecture of each
# département, 'reg' = regional capital, 'big' = each commune over 100,000 inhabitants).
NAMED_ACTORS = [
    ("94.11Z", "7381", "CCI {dep_name}", "dep"),
    ("94.11Z", "7381", "CHAMBRE DE METIERS ET DE L'ARTISANAT {dep_name}", "dep"),
    ("01.61Z", "7381", "CHAMBRE D'AGRICULTURE {dep_name}", "dep"),
    ("84.13Z", "4110", "BUSINESS FRANCE - TEAM FRANCE EXPORT", "reg"),
    ("84.13Z", "7172", "DREETS UNITE DEPARTEMENTALE", "dep"),
    ("84.11Z", "7230", "REGION", "reg"),
    ("84.11Z", "7220", "CONSEIL DEPARTEMENTAL", "dep"),
    ("84.11Z", "7344", "METROPOLE", "big"),
    ("84.13Z", "9220", "AGENCE DE DEVELOPPEMENT ECONOMIQUE", "reg"),
    ("94.99Z", "9220", "CLUB EXPORT {dep_name}", "dep"),
    ("94.99Z", "9220", "COMITE DES CONSEILLERS DU COMMERCE EXTERIEUR", "reg"),
    ("94.99Z", "9220", "POLE DE COMPETITIVITE", "reg"),
    ("64.92Z", "5599", "BPIFRANCE", "reg"),
    ("65.12Z", "5710", "ATRADIUS ASSURANCE CREDIT", "big"),
    ("85.42Z", "7383", "UNIVERSITE", "big"),
    ("72.19Z", "5710", "SATT", "reg"),
    ("85.42Z", "9220", "BUSINESS SCHOOL", "big"),
]

# (code, name, dep, ZE2020, population, area km²)
COMMUNES = [
    ("34172", "Montpellier", "34", "7616", 302454, 56.88),
    ("34032", "Béziers", "34", "7605", 80387, 95.48),
    ("34301", "Sète", "34", "7632", 44558, 24.21),
    ("34003", "Agde", "34", "7605", 29524, 50.81),
    ("34145", "Lunel", "34", "7616", 26398, 23.58),
    ("34129", "Lattes", "34", "7616", 17234, 27.90),
    ("34057", "Castelnau-le-Lez", "34", "7616", 22451, 11.15),
    ("34108", "Frontignan", "34", "7632", 23138, 31.81),
    ("34199", "Pézenas", "34", "7605", 8561, 28.55),
    ("34154", "Mauguio", "34", "7616", 17678, 77.17),
    ("30189", "Nîmes", "30", "7609", 148561, 161.85),
    ("30007", "Alès", "30", "7601", 42220, 23.16),
    ("30028", "Bagnols-sur-Cèze", "30", "7603", 17755, 41.85),
    ("30032", "Beaucaire", "30", "7609", 15777, 86.50),
    ("30334", "Uzès", "30", "7609", 8506, 25.47),
    ("30341", "Vauvert", "30", "7609", 11933, 110.50),
    ("30133", "Le Grau-du-Roi", "30", "7609", 8491, 55.42),
    ("30351", "Villeneuve-lès-Avignon", "30", "9327", 11949, 18.30),
    ("69123", "Lyon", "69", "8420", 522250, 47.87),
    ("69266", "Villeurbanne", "69", "8420", 156928, 14.52),
    ("69259", "Vénissieux", "69", "8420", 67129, 15.33),
    ("69034", "Caluire-et-Cuire", "69", "8420", 43254, 10.50),
    ("69029", "Bron", "69", "8420", 42419, 10.30),
    ("69264", "Villefranche-sur-Saône", "69", "8424", 36725, 9.51),
    ("69243", "Tarare", "69", "8424", 10851, 14.67),
    ("69091", "Givors", "69", "8420", 20115, 17.46),
    ("69149", "Oullins", "69", "8420", 26574, 4.37),
    ("31555", "Toulouse", "31", "7630", 504078, 118.30),
    ("31149", "Colomiers", "31", "7630", 40286, 20.83),
    ("31557", "Tournefeuille", "31", "7630", 28932, 18.20),
    ("31395", "Muret", "31", "7630", 25840, 57.86),
    ("31069", "Blagnac", "31", "7630", 25525, 16.88),
    ("31483", "Saint-Gaudens", "31", "7628", 11167, 33.00),
    ("31044", "Balma", "31", "7630", 17208, 16.60),
]
DEPARTEMENTS = {
    "34": ("Hérault", "76", "34172"),
    "30": ("Gard", "76", "30189"),
    "69": ("Rhône", "84", "69123"),
    "31": ("Haute-Garonne", "76", "31555"),
}
REGIONS = {
    "76": ("Occitanie", "31555"),
    "84": ("Auvergne-Rhône-Alpes", "69123"),
    "93": ("Provence-Alpes-Côte d'Azur", "13055"),
}
ZONES = {
    "7616": "Montpellier",
    "7605": "Béziers",
    "7632": "Sète",
    "7609": "Nîmes",
    "7601": "Alès",
    "7603": "Bagnols-sur-Cèze",
    "9327": "Avignon",
    "8420": "Lyon",
    "8424": "Villefranche-sur-Saône",
    "7630": "Toulouse",
    "7628": "Saint-Gaudens",
}
GEOGRAPHY_COLUMNS = [
    "CODGEO",
    "LIBGEO",
    "DEP",
    "REG",
    "EPCI",
    "NATURE_EPCI",
    "ARR",
    "CV",
    "ZE2020",
    "UU2020",
    "BV2022",
    "LIBDEP",
    "LIBREG",
    "LIBZE2020",
]
ESTABLISHMENTS_PER_INHABITANT = 0.0016


def demo_paths() -> dict[str, Path]:
    """Return the committed demo files: registry, geography, population, area, interviews."""
    data = Path(__file__).resolve().parent / "data"
    return {
        "registry": data / "demo_registry.csv.gz",
        "geography": data / "demo_geography.csv",
        "population": data / "demo_population.csv",
        "area": data / "demo_area.csv",
        "interviews": data / "demo_interviews",
    }


def _choice(rng: np.random.Generator, mix: list[tuple[str, int]], size: int) -> np.ndarray:
    values, weights = zip(*mix, strict=True)
    w = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(values), size=size, p=w / w.sum())


def _blank_row() -> dict[str, str]:
    return dict.fromkeys(SIRENE_COLUMNS, "")


def demo_rows(seed: int = 2026) -> list[dict[str, str]]:
    """Build the demo register rows (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    for code, _name, _dep, _ze, pop, _area in COMMUNES:
        n = int(round(pop * ESTABLISHMENTS_PER_INHABITANT))
        nafs = _choice(rng, NAF_MIX, n)
        legal = _choice(rng, LEGAL_MIX, n)
        for naf, cj in zip(nafs, legal, strict=True):
            rows.append(_row(rng, _commune_code(rng, code), str(naf), str(cj), ""))
    rows += _named_rows(rng)
    _spoil(rng, rows)
    for i, row in enumerate(rows):
        siren = f"{300000000 + 7919 * i:09d}"[:9]
        row.update(siren=siren, nic="00012", siret=siren + "00012")
    _malformed_sirets(rows)
    return rows


def _commune_code(rng: np.random.Generator, code: str) -> str:
    """Lyon establishments carry their arrondissement code, as in SIRENE."""
    if code == "69123":
        return f"6938{rng.integers(1, 10)}"
    return code


def _row(rng: np.random.Generator, commune: str, naf: str, cj: str, name: str) -> dict[str, str]:
    row = _blank_row()
    employer = rng.random() < 0.35
    row.update(
        statutDiffusionEtablissement="O",
        dateCreationEtablissement=f"{rng.integers(1975, 2025)}-{rng.integers(1, 13):02d}-01",
        trancheEffectifsEtablissement=str(rng.choice(["01", "02", "03", "11", "12", "21"]))
        if employer
        else "NN",
        etablissementSiege="true",
        codeCommuneEtablissement=commune,
        etatAdministratifEtablissement="F" if rng.random() < 0.12 else "A",
        denominationUsuelleEtablissement=name,
        activitePrincipaleEtablissement=naf,
        nomenclatureActivitePrincipaleEtablissement="NAFRev2",
        caractereEmployeurEtablissement="O" if employer else "N",
        categorieJuridiqueUniteLegale=cj,
    )
    return row


def _named_rows(rng: np.random.Generator) -> list[dict[str, str]]:
    rows = []
    big = [c for c in COMMUNES if c[4] > 100000]
    for naf, cj, name, where in NAMED_ACTORS:
        if where == "dep":
            places = [(v[2], v[0]) for v in DEPARTEMENTS.values()]
        elif where == "reg":
            places = [(REGIONS[r][1], n) for r, n in [("76", "Occitanie"), ("84", "Rhône")]]
            places.append(("34172", "Hérault"))  # regional antenna in the second metropolis
        else:
            places = [(c[0], DEPARTEMENTS[c[2]][0]) for c in big]
        for commune, dep_name in places:
            label = _plain(name.format(dep_name=dep_name))
            row = _row(rng, _commune_code(rng, commune), naf, cj, label)
            row["etatAdministratifEtablissement"] = "A"
            row["caractereEmployeurEtablissement"] = "O"
            rows.append(row)
    return rows


def _plain(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.upper())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _spoil(rng: np.random.Generator, rows: list[dict[str, str]]) -> None:
    """Add what real files have: old NAF codes, a foreign and an unknown commune."""
    for idx in rng.choice(len(rows) - 60, size=len(rows) // 60, replace=False):
        rows[idx].update(
            nomenclatureActivitePrincipaleEtablissement="NAFRev1",
            activitePrincipaleEtablissement="74.1G",
        )
    foreign = rows[5]
    foreign.update(
        codeCommuneEtablissement="",
        codePaysEtrangerEtablissement="99109",
        libellePaysEtrangerEtablissement="ALLEMAGNE",
        etatAdministratifEtablissement="A",
    )
    rows[11].update(codeCommuneEtablissement="34999", etatAdministratifEtablissement="A")


def _malformed_sirets(rows: list[dict[str, str]]) -> None:
    rows[17]["siret"] = rows[17]["siret"][:13]
    rows[23]["siret"] = rows[23]["siret"][:12] + "AB"


def write_demo_registry(path: Path, seed: int = 2026) -> int:
    """Write the gzipped demo register, with one line broken on purpose."""
    rows = demo_rows(seed)
    with atomic_path(path) as tmp:
        with (
            open(tmp, "wb") as out,
            gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as raw,
            _text(raw) as fh,
        ):
            writer = csv.DictWriter(fh, fieldnames=SIRENE_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for i, row in enumerate(rows):
                writer.writerow(row)
                if i == 40:  # a truncated line, as left by a broken export
                    fh.write("30000004000012,O,2001-01-01,NN\n")
    return len(rows) + 1


def _text(raw):  # noqa: ANN001, ANN202 - thin wrapper for a deterministic gzip stream
    import io

    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def write_demo_geography(folder: Path) -> None:
    """Write the geography, population and area tables of the demo communes."""
    with (
        atomic_path(folder / "demo_geography.csv") as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as fh,
    ):
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(GEOGRAPHY_COLUMNS)
        for code, name, dep, ze, _pop, _area in COMMUNES:
            reg = DEPARTEMENTS[dep][1]
            w.writerow(
                [
                    code,
                    name,
                    dep,
                    reg,
                    "",
                    "",
                    f"{dep}1",
                    f"{dep}01",
                    ze,
                    "",
                    code,
                    DEPARTEMENTS[dep][0],
                    REGIONS[reg][0],
                    ZONES[ze],
                ]
            )
    for fname, col, idx in (("demo_population.csv", "PMUN", 4), ("demo_area.csv", "SUPERF", 5)):
        with atomic_path(folder / fname) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f"CODGEO;{col}\n")
            for c in COMMUNES:
                fh.write(f"{c[0]};{str(c[idx]).replace('.', ',')}\n")


def write_demo(folder: Path, seed: int = 2026) -> None:
    """Write every demo file into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_demo_registry(folder / "demo_registry.csv.gz", seed)
    write_demo_geography(folder)
    write_demo_interviews(folder / "demo_interviews", seed)


REGION_DEPS = {
    "11": "75 77 78 91 92 93 94 95",
    "24": "18 28 36 37 41 45",
    "27": "21 25 39 58 70 71 89 90",
    "28": "14 27 50 61 76",
    "32": "02 59 60 62 80",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "52": "44 49 53 72 85",
    "53": "22 29 35 56",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "93": "04 05 06 13 83 84",
    "94": "2A 2B",
}
COMMUNES_PER_DEP = 360
ZONES_PER_DEP = 3


def full_geography_frame() -> pd.DataFrame:
    """Return a synthetic national geography (~35,000 communes)."""
    rows = []
    for k, (dep, reg) in enumerate((d, r) for r, ds in REGION_DEPS.items() for d in ds.split()):
        for i in range(1, COMMUNES_PER_DEP + 1):
            code = f"{dep}{i:03d}"
            ze = f"{reg}{k * ZONES_PER_DEP + i % ZONES_PER_DEP:03d}"
            rows.append((code, f"Commune {code}", dep, reg, ze))
    frame = pd.DataFrame(rows, columns=["CODGEO", "LIBGEO", "DEP", "REG", "ZE2020"])
    # Paris, Lyon and Marseille exist as communes; the register uses their arrondissements.
    for code, name in (("75056", "Paris"), ("69123", "Lyon"), ("13055", "Marseille")):
        frame.loc[frame["CODGEO"] == code, "LIBGEO"] = name
    return frame


CLOSED_PERCENT = 61  # share of closed establishments in the national stock file


def write_full(out: Path, rows: int, geography: Path | None = None, seed: int = 7) -> None:
    """Write a national-scale synthetic SIRENE CSV (and its geography) with DuckDB."""
    geo = full_geography_frame()
    db = duckdb.connect()
    db.register("geo_df", geo)
    db.execute(
        "CREATE TABLE communes AS SELECT (row_number() OVER (ORDER BY CODGEO) - 1)::BIGINT"
        " AS idx, CODGEO FROM geo_df"
    )
    slots = pd.DataFrame(_slots(), columns=["slot", "naf", "cj", "name"])
    db.register("slots_df", slots)
    db.execute(
        "CREATE TABLE slots AS SELECT slot::BIGINT AS slot, naf, cj,"
        " nullif(name, '') AS name FROM slots_df"
    )
    n_communes = len(geo)
    exprs = _full_exprs(seed)
    empty = "NULL"  # written as an empty field, as in INSEE's files
    cols = ", ".join(f"{exprs.get(c, empty)} AS {c}" for c in SIRENE_COLUMNS)
    query = f"""SELECT {cols} FROM (
        SELECT i, (hash(i * 31 + {seed}) % {n_communes})::BIGINT AS ci,
               (hash(i * 17 + {seed}) % {len(slots)})::BIGINT AS si FROM range({rows}) r(i)) t
        JOIN communes c ON c.idx = t.ci JOIN slots s ON s.slot = t.si"""
    with atomic_path(out) as tmp:
        db.execute(f"COPY ({query}) TO '{tmp}' (HEADER, DELIMITER ',', FORMAT csv)")
    if geography is not None:
        with atomic_path(geography) as tmp:
            geo.to_csv(tmp, index=False)


def _full_exprs(seed: int) -> dict[str, str]:
    h = f"hash(i + {seed})"
    siren = "printf('%09d', 100000000 + i % 899999999)"
    return {
        "siren": siren,
        "nic": "printf('%05d', i % 97)",
        "siret": f"{siren} || printf('%05d', i % 97)",
        "statutDiffusionEtablissement": "'O'",
        "dateCreationEtablissement": f"printf('%d-%02d-01', 1970 + ({h} % 55)::INT,"
        f" 1 + ({h} % 12)::INT)",
        "trancheEffectifsEtablissement": f"CASE WHEN {h} % 3 = 0 THEN '02' ELSE 'NN' END",
        "etablissementSiege": "'true'",
        "codeCommuneEtablissement": "CASE c.CODGEO WHEN '75056' THEN printf('751%02d', 1 + i % 20)"
        " WHEN '69123' THEN printf('6938%d', 1 + i % 9)"
        " WHEN '13055' THEN printf('132%02d', 1 + i % 16) ELSE c.CODGEO END",
        # A hash of its own, so the closed share is independent of the other columns.
        "etatAdministratifEtablissement": (
            f"CASE WHEN hash(i * 13 + {seed} + 1) % 100 < {CLOSED_PERCENT} THEN 'F' ELSE 'A' END"
        ),
        "denominationUsuelleEtablissement": "s.name",
        "activitePrincipaleEtablissement": f"CASE WHEN {h} % 50 = 7 THEN '74.1G' ELSE s.naf END",
        "nomenclatureActivitePrincipaleEtablissement": (
            f"CASE WHEN {h} % 50 = 7 THEN 'NAFRev1' ELSE 'NAFRev2' END"
        ),
        "caractereEmployeurEtablissement": f"CASE WHEN {h} % 3 = 0 THEN 'O' ELSE 'N' END",
        "categorieJuridiqueUniteLegale": "s.cj",
        "libelleVoieEtablissement": "'RUE DE LA REPUBLIQUE'",
        "codePostalEtablissement": "left(c.CODGEO, 2) || '000'",
        "libelleCommuneEtablissement": "'COMMUNE ' || c.CODGEO",
    }


def _slots(size: int = 100_000) -> list[tuple[int, str, str, str]]:
    """Map 100,000 equiprobable slots to (NAF, legal category, name), named actors rare."""
    rng = np.random.default_rng(11)
    named = [(naf, cj, _plain(name.format(dep_name="X"))) for naf, cj, name, _ in NAMED_ACTORS]
    out = [(i, naf, cj, name) for i, (naf, cj, name) in enumerate(named * 2)]
    rest = size - len(out)
    nafs = _choice(rng, NAF_MIX, rest)
    legal = _choice(rng, LEGAL_MIX, rest)
    out += [
        (len(out) + j, str(n), str(c), "") for j, (n, c) in enumerate(zip(nafs, legal, strict=True))
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: write the demo files or a full-scale register."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", type=Path, help="folder to write the demo files into")
    ap.add_argument("--rows", type=int, default=30_000_000)
    ap.add_argument("--out", type=Path, help="full-scale CSV to write")
    ap.add_argument("--geography", type=Path, help="where to write the matching geography")
    args = ap.parse_args(argv)
    if args.demo:
        write_demo(args.demo)
        return 0
    if not args.out:
        ap.error("give --demo DIR or --out FILE")
    print(f"writing {args.rows:,} rows to {args.out}", file=sys.stderr)
    write_full(args.out, args.rows, args.geography)
    return 0


# Scale items of the two guides (instruments/sme_manager.yaml, relay_actor.yaml):
# key -> (type, D, reverse).
DEMO_QUESTIONS = {
    "a4": ("frequency", "D3", False),
    "a5": ("likert", "D4_GOV", False),
    "a6": ("likert", "D4_GOV", True),
    "a7": ("likert", "D4_GOV", False),
    "a8": ("likert", "D4_GOV", False),
    "a9": ("likert", "D4_GOV", True),
    "a11": ("likert", "D4_STRAT", False),
    "a13": ("likert", "D4_STRAT", False),
    "a14": ("likert", "D3", False),
    "a15": ("likert", "D3", False),
    "b3": ("frequency", "D3", False),
    "b4": ("likert", "D4_GOV", False),
    "b5": ("likert", "D4_GOV", True),
    "b6": ("likert", "D4_GOV", False),
    "b8": ("likert", "D4_GOV", False),
    "b10": ("likert", "D4_GOV", False),
    "b13": ("likert", "D4_STRAT", False),
    "b14": ("likert", "D3", False),
    "b15": ("likert", "D3", False),
}
DEMO_CODES = {
    "D3": ["DYN.FREQ", "DYN.INIT", "DYN.LEARN", "DYN.TREND"],
    "D4_GOV": ["GOV.COORD", "GOV.PILOT", "GOV.FRAG", "GOV.PROX"],
    "D4_STRAT": ["STR.INTL", "STR.MODE", "STR.NETW"],
}
DEMO_FAMILY = {"D3": "DYNAMICS", "D4_GOV": "GOVERNANCE", "D4_STRAT": "STRATEGY"}
# Latent level per département and D: how supportive the milieu is (0..1).
DEMO_LATENT = {
    "34": (0.70, 0.55, 0.65),
    "30": (0.40, 0.35, 0.45),
    "69": (0.75, 0.70, 0.70),
    "31": (0.60, 0.50, 0.60),
}


def demo_questions() -> dict[str, dict]:
    """Return question metadata (tidy-table contract) for the demo scale items."""
    choices = [{"value": str(v), "label": {"fr": str(v), "en": str(v)}} for v in range(1, 6)]
    return {
        k: {
            "type": t,
            "d": d,
            "reverse": r,
            "codes": [],
            "choices": choices,
            "label": {"fr": k, "en": k},
        }
        for k, (t, d, r) in DEMO_QUESTIONS.items()
    }


def demo_interview_tables(seed: int = 2026, per_stratum: int = 10) -> dict[str, pd.DataFrame]:
    """Build synthetic interviews, answers_long and codings for the four demo départements."""
    rng = np.random.default_rng(seed)
    dep_commune = {dep: v[2] for dep, v in DEPARTEMENTS.items()}
    ze = {c[0]: c[3] for c in COMMUNES}
    interviews, answers, codings = [], [], []
    for dep, latent in DEMO_LATENT.items():
        for rtype in ("sme", "relay"):
            for j in range(per_stratum):
                iid = len(interviews) + 1
                org = 1000 + iid - (j % 4 == 3)  # a few organisations give two interviews
                commune = dep_commune[dep]
                interviews.append(
                    {
                        "interview_id": iid,
                        "org_id": org,
                        "respondent_type": rtype,
                        "instrument_id": "sme_manager" if rtype == "sme" else "relay_actor",
                        "instrument_version": "1.0.0",
                        "fieldworker": "demo",
                        "interview_date": pd.Timestamp("2026-03-01") + pd.Timedelta(days=iid),
                        "status": "approved" if j % 5 else "submitted",
                        "commune": commune,
                        "departement": dep,
                        "region": DEPARTEMENTS[dep][1],
                        "zone_emploi": ze[commune],
                    }
                )
                person = rng.normal(0, 0.12)
                answers += _demo_answers(rng, iid, rtype, latent, person)
                coders = ["ana", "ben"] if j % 3 == 0 else ["ana"]
                for coder in coders:
                    codings += _demo_codings(rng, iid, coder, latent, person, len(codings))
    return {
        "interviews": pd.DataFrame(interviews),
        "answers_long": pd.DataFrame(answers),
        "codings": pd.DataFrame(codings),
    }


def _demo_answers(
    rng: np.random.Generator, iid: int, rtype: str, latent: tuple, person: float
) -> list[dict]:
    rows = []
    prefix = "a" if rtype == "sme" else "b"
    for key, (_t, d, reverse) in DEMO_QUESTIONS.items():
        if not key.startswith(prefix):
            continue
        level = latent[("D3", "D4_GOV", "D4_STRAT").index(d)] + person + rng.normal(0, 0.15)
        value = int(np.clip(np.rint(1 + 4 * level), 1, 5))
        value = 6 - value if reverse else value
        missing = "dont_know" if rng.random() < 0.04 else None
        rows.append(
            {
                "interview_id": iid,
                "question_key": key,
                "value": None if missing else str(value),
                "missing": missing,
            }
        )
    return rows


def _demo_codings(
    rng: np.random.Generator, iid: int, coder: str, latent: tuple, person: float, start_id: int
) -> list[dict]:
    rows = []
    for j, d in enumerate(("D3", "D4_GOV", "D4_STRAT")):
        for _ in range(int(rng.integers(1, 5))):
            p_pos = float(np.clip(latent[j] + person, 0.05, 0.95))
            valence = 1 if rng.random() < p_pos else -1
            start = int(rng.integers(0, 5000))
            rows.append(
                {
                    "coding_id": start_id + len(rows) + 1,
                    "interview_id": iid,
                    "transcript_id": iid,
                    "start": start,
                    "end": start + 120,
                    "code": str(rng.choice(DEMO_CODES[d])),
                    "family": DEMO_FAMILY[d],
                    "coder": coder,
                    "source": "human",
                    "confidence": None,
                    "valence": valence,
                    "intensity": int(rng.integers(1, 4)),
                    "round_id": None,
                    "created_dt": pd.Timestamp("2026-04-01", tz="UTC"),
                }
            )
    return rows


def write_demo_interviews(folder: Path, seed: int = 2026) -> None:
    """Write the synthetic interview tables and question metadata as CSV/JSON files."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in demo_interview_tables(seed).items():
        with atomic_path(folder / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=False)
    with atomic_path(folder / "questions.json") as tmp:
        tmp.write_text(
            json.dumps(demo_questions(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    raise SystemExit(main())
