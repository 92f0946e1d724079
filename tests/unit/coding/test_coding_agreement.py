"""Agreement figures against the krippendorff package and worked examples from the literature."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from coding.agreement import (
    agreement_table,
    alpha_band,
    bootstrap_alpha,
    cohen_kappa,
    intensity_alpha,
    krippendorff_alpha,
    percent_agreement,
    spans_to_documents,
    spans_to_units,
)

N = np.nan
#: Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_worked_example(level, expected):
    assert krippendorff_alpha(K2011, level) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_matches_krippendorff_package(seed, level):
    rng = np.random.default_rng(seed)
    coders, units = rng.integers(2, 6), rng.integers(10, 60)
    truth = rng.integers(0, 4, size=units)
    data = np.where(rng.random((coders, units)) < 0.7, truth, rng.integers(0, 4, (coders, units)))
    data = data.astype(float)
    data[rng.random(data.shape) < 0.15] = np.nan
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("yy", "yn", "ny", "nn", "kappa"),
    [
        (20, 5, 10, 15, 0.4),  # Wikipedia, "Cohen's kappa", simple example
        (45, 15, 25, 15, 0.1304),  # same page: similar agreement, lower kappa
        (25, 35, 5, 35, 0.2593),  # same page: unbalanced marginals
    ],
)
def test_cohen_kappa_textbook(yy, yn, ny, nn, kappa):
    a = [1] * yy + [1] * yn + [0] * ny + [0] * nn
    b = [1] * yy + [0] * yn + [1] * ny + [0] * nn
    assert cohen_kappa(a, b) == pytest.approx(kappa, abs=1e-4)
    assert percent_agreement(np.array([a, b], float)) == pytest.approx((yy + nn) / len(a))


def test_cohen_kappa_matches_sklearn_and_skips_missing():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, 80).astype(float), rng.integers(0, 3, 80).astype(float)
    expected = cohen_kappa_score(a, b)
    a_missing = np.append(a, np.nan)
    assert cohen_kappa(a_missing, np.append(b, 1.0)) == pytest.approx(expected)


def _units(rows):
    return pd.DataFrame(rows, columns=["unit", "coder", "codes"])


TWO_CODERS = _units(
    [
        (1, "ana", "GOV.FRAG"),
        (1, "bob", "GOV.FRAG;STR.INTL"),
        (2, "ana", ""),
        (2, "bob", ""),
        (3, "ana", "STR.INTL"),
        (3, "bob", "STR.INTL"),
        (4, "ana", ""),
        (4, "bob", "GOV.FRAG"),
        (5, "ana", "GOV.PILOT"),
        (5, "bob", "GOV.PILOT"),
        (6, "ana", "GOV.FRAG"),  # bob did not code unit 6: missing, not "nothing"
    ]
)


def _presence(df, code):
    wide = df.assign(v=df["codes"].map(lambda c: float(code in c.split(";"))))
    return wide.pivot(index="coder", columns="unit", values="v").to_numpy(float)


def test_table_per_code_matches_package():
    table = agreement_table(TWO_CODERS, n_boot=200).set_index("code")
    for code in ["GOV.FRAG", "STR.INTL", "GOV.PILOT"]:
        expected = krippendorff.alpha(
            reliability_data=_presence(TWO_CODERS, code), level_of_measurement="nominal"
        )
        assert table.loc[code, "alpha"] == pytest.approx(expected)
    assert table.loc["GOV.FRAG", "n_units"] == 5
    assert table.loc["GOV.FRAG", "kappa"] == pytest.approx(
        cohen_kappa_score([1, 0, 0, 0, 0], [1, 0, 0, 1, 0])
    )
    assert table.loc["GOV.FRAG", "prevalence"] == pytest.approx(4 / 11)
    assert table.loc["GOV.PILOT", "band"] == "reliable"
    assert "ALL" in table.index


def test_exclude_uncoded_drops_empty_units():
    with_all = agreement_table(TWO_CODERS, n_boot=0).set_index("code")
    coded_only = agreement_table(TWO_CODERS, exclude_uncoded=True, n_boot=0).set_index("code")
    assert with_all.loc["ALL", "n_units"] == 5
    assert coded_only.loc["ALL", "n_units"] == 4
    assert coded_only.loc["STR.INTL", "alpha"] < with_all.loc["STR.INTL", "alpha"]


def test_family_level(codebook):
    table = agreement_table(TWO_CODERS, level="family", family_of=codebook.family_of, n_boot=0)
    assert set(table["code"]) == {"GOVERNANCE", "STRATEGY", "ALL"}
    gov = table.set_index("code").loc["GOVERNANCE"]
    # ana: 1,0,0,0,1 ; bob: 1,0,0,1,1 on the five pairable units
    expected = krippendorff.alpha(
        reliability_data=[[1, 0, 0, 0, 1], [1, 0, 0, 1, 1]], level_of_measurement="nominal"
    )
    assert gov["alpha"] == pytest.approx(expected)


def test_three_coders_with_missing_values():
    rows = [
        (u, c, "X" if (u + i) % 3 else "")
        for u in range(12)
        for i, c in enumerate("abc")
        if not (u == 4 and c == "c")
    ]
    df = _units(rows)
    table = agreement_table(df, n_boot=0).set_index("code")
    expected = krippendorff.alpha(
        reliability_data=_presence(df, "X"), level_of_measurement="nominal"
    )
    assert table.loc["X", "alpha"] == pytest.approx(expected)
    assert table.loc["X", "n_coders"] == 3


def test_bootstrap_is_seeded_and_brackets_alpha():
    a = krippendorff_alpha(K2011)
    lo, hi = bootstrap_alpha(K2011, n_boot=500, seed=7)
    assert (lo, hi) == bootstrap_alpha(K2011, n_boot=500, seed=7)
    assert lo <= a <= hi


def test_character_level_equals_per_character_computation():
    codings = pd.DataFrame(
        {
            "doc": ["d1", "d1", "d1", "d2", "d2"],
            "coder": ["ana", "bob", "ana", "ana", "bob"],
            "start": [0, 5, 20, 3, 0],
            "end": [10, 12, 30, 8, 9],
            "code": ["X", "X", "Y", "X", "X"],
        }
    )
    lengths = {"d1": 40, "d2": 10}
    table = agreement_table(spans_to_units(codings, lengths), n_boot=0).set_index("code")
    for code in ["X", "Y"]:
        per_char = []
        for coder in ["ana", "bob"]:
            row = []
            for doc, n in lengths.items():
                sub = codings[
                    (codings.doc == doc) & (codings.coder == coder) & (codings.code == code)
                ]
                row += [
                    float(any(s <= i < e for s, e in zip(sub.start, sub.end, strict=True)))
                    for i in range(n)
                ]
            per_char.append(row)
        expected = krippendorff.alpha(reliability_data=per_char, level_of_measurement="nominal")
        assert table.loc[code, "alpha"] == pytest.approx(expected)


def test_document_level():
    codings = pd.DataFrame(
        {
            "doc": ["d1", "d1", "d2", "d3"],
            "coder": ["ana", "bob", "ana", "bob"],
            "code": ["X", "X", "X", "Y"],
            "start": 0,
            "end": 1,
        }
    )
    assign = pd.DataFrame(
        {"doc": ["d1", "d1", "d2", "d2", "d3", "d3"], "coder": ["ana", "bob"] * 3}
    )
    units = spans_to_documents(codings, assign)
    assert len(units) == 6
    table = agreement_table(units, n_boot=0).set_index("code")
    expected = krippendorff.alpha(
        reliability_data=[[1, 1, 0], [1, 0, 0]], level_of_measurement="nominal"
    )
    assert table.loc["X", "alpha"] == pytest.approx(expected)


def test_intensity_is_ordinal():
    rows = [
        (u, c, "X", v)
        for u, (a, b) in enumerate([(0, 0), (1, 1), (2, 3), (3, 3), (1, 2)])
        for c, v in (("ana", a), ("bob", b))
    ]
    df = pd.DataFrame(rows, columns=["unit", "coder", "code", "intensity"])
    got = intensity_alpha(df, n_boot=0).set_index("code").loc["X", "alpha"]
    expected = krippendorff.alpha(
        reliability_data=[[0, 1, 2, 3, 1], [0, 1, 3, 3, 2]], level_of_measurement="ordinal"
    )
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.85, "reliable"),
        (0.8, "reliable"),
        (0.7, "tentative"),
        (0.667, "tentative"),
        (0.5, "revise"),
        (float("nan"), "n/a"),
    ],
)
def test_bands(value, band):
    assert alpha_band(value) == band


def test_missing_column_is_reported():
    with pytest.raises(ValueError, match="codes"):
        agreement_table(pd.DataFrame({"unit": [1], "coder": ["a"]}))


def test_bootstrap_resamples_whole_clusters():
    from coding.agreement import bootstrap_alpha, krippendorff_alpha

    data = np.array([[1, 0, 1, 0, 1, 1, 0, 0], [1, 0, 0, 0, 1, 1, 1, 0]], dtype=float)
    point = krippendorff_alpha(data, "nominal")
    # one document: every draw takes it whole, so the interval is the point estimate
    lo, hi = bootstrap_alpha(data, n_boot=50, clusters=["doc"] * 8)
    assert lo == pytest.approx(point) and hi == pytest.approx(point)
    lo, hi = bootstrap_alpha(data, n_boot=200, clusters=[1, 1, 2, 2, 3, 3, 4, 4])
    assert hi - lo > 0.1
    with pytest.raises(ValueError, match="one label per unit"):
        bootstrap_alpha(data, clusters=[1, 2])
