"""The relay typology file: packaged copy loads; invalid files are refused with a reason."""

from __future__ import annotations

import copy

import pytest

from analysis.typology import TypologyError, load_typology, parse_typology

FAMILIES = {
    "consular_state",
    "territorial_public",
    "networks",
    "finance_insurance",
    "private_services",
    "knowledge",
}


def test_packaged_typology_has_six_families_and_documented_rules() -> None:
    typ = load_typology()
    assert set(typ.family_keys) == FAMILIES
    assert typ.version
    assert len(set(typ.category_keys)) == len(typ.categories)
    assert all(c.imprecision and c.rules for c in typ.categories)
    # keys the web app's demo organisations use
    assert {
        "chamber_commerce",
        "regional_agency",
        "export_club",
        "bank",
        "team_france_export",
    } <= set(typ.category_keys)


def base() -> dict:
    return {
        "version": "1",
        "families": {"f": {"label": {"en": "F"}}},
        "categories": [
            {
                "key": "bank",
                "family": "f",
                "label": {"en": "Bank"},
                "rules": [{"naf": ["64.19Z"]}],
                "imprecision": "broad",
            }
        ],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["categories"][0].update(family="nope"), "unknown family"),
        (lambda d: d["categories"][0]["rules"][0].update(naf=["6419Z"]), "bad NAF code"),
        # A code the register can never hold: a trailing newline, non-ASCII digits.
        (lambda d: d["categories"][0]["rules"][0].update(naf=["64.19Z\n"]), "bad NAF code"),
        (lambda d: d["categories"][0]["rules"][0].update(naf=["٦٤.١٩Z"]), "bad NAF code"),
        (lambda d: d["categories"][0]["rules"][0].update(legal_categories=["7381\n"]), "legal"),
        (lambda d: d["categories"][0].update(key="bank\n"), "key"),
        (
            lambda d: d["categories"][0].update(rules=[{"name_keywords": ["BANK"]}]),
            "needs naf or legal_categories",
        ),
        (lambda d: d["categories"][0].update(imprecision=""), "imprecision"),
        (lambda d: d["categories"].append(copy.deepcopy(d["categories"][0])), "duplicate"),
        (lambda d: d["categories"][0]["rules"][0].update(name_keywords=["Banque"]), "upper case"),
        (lambda d: d.pop("version"), "version"),
    ],
)
def test_invalid_typologies_are_refused(change, message: str) -> None:
    data = base()
    change(data)
    with pytest.raises(TypologyError, match=message):
        parse_typology(data)
