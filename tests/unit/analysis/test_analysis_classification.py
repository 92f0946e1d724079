"""The registry scan classifies exactly as the typology's rules read, row by row.

The scan compiles the rules into position lookups and a table (for speed); this checks it
against Typology.classify, the plain statement of the rules, on thousands of random rows.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest

from analysis.registry import position_sql, register_source, scan_sql, unpack_sql
from analysis.typology import Typology, load_typology, parse_typology

NAMES = [
    "",
    "CCI du Gard",
    "Chambre de commerce et d'industrie",
    "CLUB EXPORT Occitanie",
    "Agence de développement économique",
    "Invest in Lyon",
    "BUSINESS FRANCE",
    "Boulangerie Dupont",
    "Société générale",
    "Crédit agricole",
    "pôle de compétitivité",
    "INTERNATIONAL",
    "Cabinet Martin",
    "Comité des CCEF",
    "x",
]


def tricky_typology() -> Typology:
    """Keyword categories before and after plain ones sharing codes, legal-only keywords."""
    return parse_typology(
        {
            "version": "t1",
            "families": {"f": {"label": {"en": "F"}}, "g": {"label": {"en": "G"}}},
            "categories": [
                {
                    "key": "plain_first",
                    "family": "f",
                    "imprecision": "x",
                    "label": {"en": "a"},
                    "rules": [{"naf": ["70.22Z"], "legal_categories": ["5710"]}],
                },
                {
                    "key": "kw_naf",
                    "family": "f",
                    "imprecision": "x",
                    "label": {"en": "b"},
                    "rules": [{"naf": ["70.22Z", "94.99Z"], "name_keywords": ["CLUB", "INVEST"]}],
                },
                {
                    "key": "kw_legal",
                    "family": "g",
                    "imprecision": "x",
                    "label": {"en": "c"},
                    "rules": [
                        {"legal_categories": ["7381"], "name_keywords": ["CHAMBRE", "CCI "]},
                        {
                            "naf": ["64.19Z"],
                            "legal_categories": ["5599"],
                            "name_keywords": ["CREDIT"],
                        },
                    ],
                },
                {
                    "key": "plain_naf",
                    "family": "g",
                    "imprecision": "x",
                    "label": {"en": "d"},
                    "rules": [{"naf": ["94.99Z", "64.19Z"]}],
                },
                {
                    "key": "plain_legal",
                    "family": "g",
                    "imprecision": "x",
                    "label": {"en": "e"},
                    "rules": [{"legal_categories": ["7381", "5599"]}],
                },
            ],
        }
    )


def random_rows(typ: Typology, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    nafs = sorted({c for cat in typ.categories for r in cat.rules for c in r.naf})
    legal = sorted({c for cat in typ.categories for r in cat.rules for c in r.legal_categories})
    # every keyword of the typology, in lower case inside a longer name
    names = NAMES + sorted(
        {
            f"Sté {k.lower()} sud"
            for cat in typ.categories
            for r in cat.rules
            for k in r.name_keywords
        }
    )
    rows = []
    for i in range(n):
        rows.append(
            {
                "siret": f"{10_000_000_000_000 + i}",
                "codeCommuneEtablissement": f"{10_000 + i}",
                "etatAdministratifEtablissement": "A",
                "activitePrincipaleEtablissement": rng.choice(nafs + ["56.10A", "47.11F", ""]),
                "nomenclatureActivitePrincipaleEtablissement": rng.choice(
                    ["NAFRev2"] * 4 + ["NAFRev1", ""]
                ),
                # unlisted codes below, between and above the listed ones (the scan skips the
                # lookup outside their range)
                "categorieJuridiqueUniteLegale": rng.choice(
                    legal + ["1000", "5499", "6540", "7200", "9220", ""]
                ),
                "denominationUsuelleEtablissement": rng.choice(names),
                "enseigne1Etablissement": rng.choice(names[:1] * 6 + names),
            }
        )
    return rows


def scanned_categories(path: Path, typ: Typology) -> dict[str, str | None]:
    """Run the scan and return commune -> category (each row has its own commune)."""
    source, names = register_source(path)
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE scan AS {scan_sql(source, names, typ, False)}")
    rows = con.execute(f"SELECT commune, category, n FROM ({unpack_sql(typ)})").fetchall()
    assert all(n == 1 for _c, _cat, n in rows)
    return {c: cat for c, cat, _n in rows}


@pytest.mark.parametrize("which", ["packaged", "tricky"])
def test_scan_classifies_every_row_as_the_rules_say(tmp_path: Path, which: str) -> None:
    typ = load_typology() if which == "packaged" else tricky_typology()
    rows = random_rows(typ, 3000, seed=len(which))
    path = tmp_path / "stock.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    got = scanned_categories(path, typ)
    expected = {}
    for r in rows:
        names = (r["denominationUsuelleEtablissement"] or None, r["enseigne1Etablissement"] or None)
        expected[r["codeCommuneEtablissement"]] = typ.classify(
            r["activitePrincipaleEtablissement"] or None,
            r["nomenclatureActivitePrincipaleEtablissement"] == "NAFRev2",
            r["categorieJuridiqueUniteLegale"] or None,
            names,
        )
    assert got == expected
    # the draw reaches every category, so no branch of the compiled rules goes untested
    assert set(typ.category_keys) <= set(expected.values())


def test_without_legal_or_name_columns_only_naf_rules_match(tmp_path: Path) -> None:
    typ = tricky_typology()
    path = tmp_path / "stock.csv"
    path.write_text(
        "siret,codeCommuneEtablissement,etatAdministratifEtablissement,"
        "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement\n"
        "10000000000001,10001,A,94.99Z,NAFRev2\n"
        "10000000000002,10002,A,70.22Z,NAFRev2\n"
        "10000000000003,10003,A,64.19Z,NAFRev1\n",
        encoding="utf-8",
    )
    assert scanned_categories(path, typ) == {"10001": "plain_naf", "10002": None, "10003": None}


@pytest.mark.parametrize("max_slots", [None, 0])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 7, 30, 200])
def test_code_lookup_gives_the_position_of_every_code_and_zero_otherwise(
    size: int, max_slots: int | None
) -> None:
    # max_slots=0 forces the list_position fallback used when no hash table size fits.
    codes = sorted({f"{10 + 3 * i % 89:02d}.{i % 10}{i % 7}Z" for i in range(size)})
    # Each listed code, a value just below and just above each, empty text and NULL.
    probes = codes + [c[:-1] + "A" for c in codes] + [c + "0" for c in codes] + ["", "00", "zz"]
    con = duckdb.connect()
    con.execute("CREATE TABLE p(v VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?)", [[v] for v in probes] + [[None]])
    got = dict(con.execute(f"SELECT v, {position_sql('v', codes, max_slots)} FROM p").fetchall())
    assert got == {v: (codes.index(v) + 1 if v in codes else 0) for v in probes} | {None: 0}
