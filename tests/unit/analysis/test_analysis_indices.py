"""Density and diversity indices against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import indices


def one(ind: indices.Indicator) -> float:
    return float(ind.value[0])


def test_garwood_interval_matches_published_table() -> None:
    low, high = indices.garwood_interval(np.array([0, 1, 10]))
    # Garwood (1936) 95% limits: 0 -> [0, 3.689], 1 -> [0.0253, 5.572], 10 -> [4.795, 18.39]
    assert low == pytest.approx([0.0, 0.025318, 4.795389], abs=1e-5)
    assert high == pytest.approx([3.688879, 5.571643, 18.390356], abs=1e-5)


def test_diversity_by_hand() -> None:
    # counts 2, 1, 1 (families a, a, b) over a typology of 4 categories: p = .5, .25, .25
    out = indices.diversity_indicators(np.array([[2, 1, 1, 0]]), ["a", "a", "b", "b"], 4)
    h = 0.5 * math.log(2) + 0.5 * math.log(4)  # = 1.0397
    assert one(out["richness"]) == 3
    assert one(out["relative_richness"]) == 0.75
    assert one(out["shannon"]) == pytest.approx(h)
    assert one(out["shannon_miller_madow"]) == pytest.approx(h + 2 / 8)
    assert one(out["evenness_observed"]) == pytest.approx(h / math.log(3))
    assert one(out["evenness_all"]) == pytest.approx(0.75)
    assert one(out["effective_number"]) == pytest.approx(2**1.5)
    assert one(out["simpson"]) == pytest.approx(0.375)
    assert one(out["gini_simpson"]) == pytest.approx(0.625)
    assert one(out["inverse_simpson"]) == pytest.approx(8 / 3)
    assert one(out["hhi"]) == pytest.approx(3750)
    assert one(out["hhi_normalised"]) == pytest.approx((0.375 - 0.25) / 0.75)
    # families: P_a = .75, P_b = .25; within a: 2/3, 1/3
    uv = 0.75 * math.log2(1 / 0.75) + 0.25 * 2
    rv = 0.75 * -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert one(out["unrelated_variety"]) == pytest.approx(uv)
    assert one(out["related_variety"]) == pytest.approx(rv)
    assert uv + rv == pytest.approx(h / math.log(2))  # H in bits = UV + RV


def test_one_category_leaves_observed_evenness_undefined() -> None:
    out = indices.diversity_indicators(np.array([[5, 0, 0]]), ["a", "b", "b"], 3)
    assert math.isnan(one(out["evenness_observed"]))
    assert out["evenness_observed"].note[0] == "only one category observed"
    assert one(out["evenness_all"]) == 0.0
    assert one(out["shannon"]) == 0.0
    assert one(out["shannon_miller_madow"]) == 0.0
    assert one(out["hhi_normalised"]) == pytest.approx(1.0)
    # a positive zero: -0.0 is written "-0.0" in the tables and "-0.000" in the report
    for name in (
        "shannon",
        "shannon_miller_madow",
        "evenness_all",
        "unrelated_variety",
        "related_variety",
    ):
        assert math.copysign(1.0, one(out[name])) == 1.0, name


def test_territory_without_actor_is_missing_not_zero() -> None:
    out = indices.diversity_indicators(np.array([[0, 0, 0], [1, 1, 0]]), ["a", "a", "b"], 3)
    assert one(out["richness"]) == 0
    for name in (
        "shannon",
        "evenness_all",
        "simpson",
        "hhi",
        "related_variety",
        "unrelated_variety",
        "inverse_simpson",
    ):
        assert math.isnan(one(out[name])), name
        assert out[name].note[0] == indices.NO_ACTOR
    assert out["shannon"].value[1] == pytest.approx(math.log(2))


def test_density_and_location_quotient_with_intervals() -> None:
    out = indices.density_indicators(
        [5], [1000], population=[50_000], area_km2=[25.0], reference_rate=0.01
    )
    low, high = indices.garwood_interval(np.array([5]))
    assert one(out["density_per_10k_firms"]) == pytest.approx(50.0)
    assert out["density_per_10k_firms"].ci_low[0] == pytest.approx(10 * low[0])
    assert one(out["density_per_100k_inhabitants"]) == pytest.approx(10.0)
    assert one(out["density_per_km2"]) == pytest.approx(0.2)
    assert one(out["location_quotient"]) == pytest.approx(0.5)
    assert out["location_quotient"].ci_high[0] == pytest.approx(high[0] / 1000 / 0.01)
    assert out["n_relay"].ci_low[0] == pytest.approx(low[0])


def test_zero_population_and_missing_tables_give_reasons() -> None:
    out = indices.density_indicators(
        [3, 2], [0, 100], population=[0, 1000], area_km2=None, reference_rate=0.02
    )
    assert math.isnan(out["density_per_100k_inhabitants"].value[0])
    assert out["density_per_100k_inhabitants"].note[0] == "population is zero"
    assert out["density_per_100k_inhabitants"].value[1] == pytest.approx(200.0)
    assert out["density_per_km2"].note.tolist() == ["no area table given"] * 2
    assert math.isnan(out["location_quotient"].value[0])
    assert out["location_quotient"].note[0] == "firm base is zero"
