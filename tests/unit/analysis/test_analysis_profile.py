"""The 4D profile: normalisations, equal weighting, bootstrap reproducibility, report."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis import profile as prof
from analysis import synthetic_registry as synth
from analysis.report import render_report_html
from analysis.texts import TEXTS

LIKERT = [{"value": str(v), "label": {"fr": str(v), "en": str(v)}} for v in range(1, 6)]
QUESTIONS = {
    "g1": {"type": "likert", "d": "D4_GOV", "reverse": False, "choices": LIKERT},
    "s1": {"type": "likert", "d": "D4_STRAT", "reverse": False, "choices": LIKERT},
    "d1": {"type": "likert", "d": "D3", "reverse": False, "choices": LIKERT},
}


def registry_table(code: str = "34", name: str = "Hérault") -> pd.DataFrame:
    """Two territories: 34 has 3 relays of 2 categories for 100 firms, 30 has 1 for 100."""
    rows = []
    for c, n, counts, firms in ((code, name, [2, 1, 0, 0], 100), ("30", "Gard", [1, 0, 0, 0], 100)):
        rows.append(("departement", c, n, "n_firms", firms))
        rows += [("departement", c, n, f"count:cat{j}", v) for j, v in enumerate(counts)]
    frame = pd.DataFrame(
        rows, columns=["territory_level", "territory_code", "territory_name", "indicator", "value"]
    )
    return frame.assign(ci_low=np.nan, ci_high=np.nan, note="")


def interviews(spec: list[tuple[int, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "interview_id": i,
                "org_id": o,
                "respondent_type": t,
                "status": "approved",
                "departement": d,
            }
            for i, o, t, d in spec
        ]
    )


def value(result: prof.ProfileResult, code: str, dim: str, source: str) -> pd.Series:
    p = result.profile
    return p[(p.territory_code == code) & (p.dimension == dim) & (p.source == source)].iloc[0]


def test_d1_and_d2_use_sample_independent_normalisations() -> None:
    iv = interviews([(1, 1, "sme", "34")])
    ans = pd.DataFrame(
        [(1, "g1", "5", None)], columns=["interview_id", "question_key", "value", "missing"]
    )
    res = prof.build_profile(registry_table(), iv, ans, pd.DataFrame(), QUESTIONS, n_boot=0)
    lq = (3 / 100) / (4 / 200)  # reference rate over the whole table: 4 relays, 200 firms
    assert value(res, "34", "D1", "registry")["value"] == pytest.approx(lq / (1 + lq))
    p = np.array([2 / 3, 1 / 3])
    assert value(res, "34", "D2", "registry")["value"] == pytest.approx(
        -(p * np.log(p)).sum() / np.log(4)
    )


def test_sme_and_relay_weighted_equally_whatever_their_numbers() -> None:
    spec = [(1, 1, "sme", "34")] + [(i, i, "relay", "34") for i in range(2, 5)]
    iv = interviews(spec)
    vals = {1: "1", 2: "5", 3: "5", 4: "3"}  # sme 0.0; relay 1.0, 1.0, 0.5
    ans = pd.DataFrame(
        [(i, "g1", v, None) for i, v in vals.items()],
        columns=["interview_id", "question_key", "value", "missing"],
    )
    res = prof.build_profile(registry_table(), iv, ans, pd.DataFrame(), QUESTIONS, n_boot=0)
    row = value(res, "34", "D4_GOV", "likert")
    assert row["value"] == pytest.approx((0.0 + 2.5 / 3) / 2)
    assert (row["n_sme"], row["n_relay"]) == (1, 3)
    assert any("1 sme interview(s), fewer than 8" in w for w in res.warnings)
    assert "fewer than 8" in row["note"]


def demo_result(seed: int, n_boot: int = 200) -> prof.ProfileResult:
    tables = synth.demo_interview_tables(per_stratum=8)
    reg = registry_table()
    return prof.build_profile(
        reg,
        tables["interviews"],
        tables["answers_long"],
        tables["codings"],
        synth.demo_questions(),
        n_boot=n_boot,
        seed=seed,
        territories=["34", "30"],
    )


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    a, b, c = demo_result(7), demo_result(7), demo_result(8)
    pd.testing.assert_frame_equal(a.profile, b.profile)
    assert not np.allclose(
        a.profile["ci_low"].to_numpy(float), c.profile["ci_low"].to_numpy(float), equal_nan=True
    )
    pd.testing.assert_series_equal(a.profile["value"], c.profile["value"])
    finite = a.profile.dropna(subset=["value"])
    assert (finite["ci_low"] <= finite["value"] + 1e-9).all()
    assert (finite["value"] <= finite["ci_high"] + 1e-9).all()


def test_composite_geometric_and_arithmetic() -> None:
    geo, ari = prof.composite([0.25, 1.0, 0.5, 0.5])
    assert geo == pytest.approx((0.25 * 0.5 * 0.5) ** 0.25)
    assert ari == pytest.approx(0.5625)
    assert prof.composite([0.0, 1, 1, 1])[0] == 0.0
    assert math.isnan(prof.composite([float("nan"), 1, 1, 1])[0])
    res = demo_result(3, n_boot=50)
    row = value(res, "34", "composite", "geometric")
    parts = [
        value(res, "34", d, s)["value"]
        for d, s in (("D1", "registry"), ("D2", "registry"), ("D3", "likert"))
    ]
    d4 = (
        value(res, "34", "D4_GOV", "likert")["value"]
        + value(res, "34", "D4_STRAT", "likert")["value"]
    ) / 2
    assert row["value"] == pytest.approx(np.exp(np.mean(np.log(parts + [d4]))))


def test_report_is_self_contained_and_escaped() -> None:
    iv = interviews([(1, 1, "sme", "34")])
    ans = pd.DataFrame(
        [(1, "g1", "4", None)], columns=["interview_id", "question_key", "value", "missing"]
    )
    reg = registry_table(name="<script>alert(1)</script>")
    res = prof.build_profile(reg, iv, ans, pd.DataFrame(), QUESTIONS, n_boot=20)
    html = render_report_html(res)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # nothing to fetch: no external src/href, stylesheet link or import
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "<script" not in html
    assert html.count("<svg") == 2  # one territory chart, one comparison
    clip_ids = re.findall(r'<clipPath id="([^"]+)"', html)
    assert clip_ids and len(clip_ids) == len(set(clip_ids))  # inline SVGs must not clash


@pytest.mark.parametrize(
    ("lang", "words", "foreign"),
    [
        (
            "fr",
            [
                '<html lang="fr">',
                "<title>Milieu : profil 4D des territoires</title>",
                "<h2>Comparaison</h2>",
                "<h2>Fiabilité des échelles (alpha de Cronbach)</h2>",
                "<h2>Triangulation : Likert et transcriptions codées, par répondant</h2>",
                '<th title="ci_low">Borne basse</th>',
                "réplications bootstrap : 20",
                "échelon : département",
                "statuts : approuvé, soumis",
                "les D ne se compensent",
                "<!-- D1 Densité -->",
                "avec intervalles bootstrap",
            ],
            ["Scale reliability", "Comparison", "D1 Density", "bootstrap replicates"],
        ),
        (
            "en",
            [
                '<html lang="en">',
                "<title>Milieu: 4D territory profile</title>",
                "<h2>Comparison</h2>",
                "<h2>Scale reliability (Cronbach&#x27;s alpha)</h2>",
                "<h2>Triangulation: Likert vs coded transcripts, per respondent</h2>",
                '<th title="ci_low">Lower bound</th>',
                "bootstrap replicates: 20",
                "level: département",
                "statuses: approved, submitted",
                "partly compensate",
                "<!-- D1 Density -->",
                "with bootstrap intervals",
            ],
            ["Fiabilité", "Comparaison", "D1 Densité", "réplications"],
        ),
    ],
)
def test_report_speaks_the_language(lang: str, words: list[str], foreign: list[str]) -> None:
    html = render_report_html(demo_result(3, n_boot=20), lang=lang)
    for word in words:
        assert word in html, word
    for word in foreign:
        assert word not in html, word


def test_report_is_french_by_default_with_every_header_translated() -> None:
    html = render_report_html(demo_result(3, n_boot=20))
    assert html.startswith('<!DOCTYPE html><html lang="fr">')
    headers = re.findall(r'<th title="([^"]+)">([^<]*)</th>', html)
    assert {"ci_low", "n_complete", "share_flagged"} <= {name for name, _ in headers}
    assert all(f"column.{name}" in TEXTS for name, _ in headers)
    assert (
        render_report_html(demo_result(3, n_boot=20), title="Étude <x>").count(
            "<title>Étude &lt;x&gt;</title>"
        )
        == 1
    )


@pytest.mark.parametrize(
    ("lang", "cells"),
    [
        (
            "fr",
            [
                '<td title="D4_GOV">D4 Gouvernance</td>',
                '<td title="coding">transcriptions codées</td>',
                '<td title="registry">répertoire</td>',
                '<td title="sme">PME</td>',
                '<td title="relay">acteurs-relais</td>',
            ],
        ),
        (
            "en",
            [
                '<td title="D4_GOV">D4 Governance</td>',
                '<td title="coding">coded transcripts</td>',
                '<td title="registry">registry</td>',
                '<td title="sme">SMEs</td>',
                '<td title="relay">relay actors</td>',
            ],
        ),
    ],
)
def test_report_tables_name_dimensions_sources_and_respondents(lang: str, cells: list[str]) -> None:
    html = render_report_html(demo_result(3, n_boot=20), lang=lang)
    for cell in cells:
        assert cell in html, cell
    # no table cell shows a bare code any more (the codes stay in the CSV files)
    codes = "D1|D2|D3|D4_GOV|D4_STRAT|registry|likert|coding|geometric|arithmetic|sme|relay"
    assert not re.search(rf"<td>({codes})</td>", html)


def test_report_numbers_never_read_minus_zero() -> None:
    from analysis.report import _fmt

    assert [_fmt(v) for v in (-0.0, -0.0004, 0.0004, -0.0006, 1.23456)] == [
        "0.000",
        "0.000",
        "0.000",
        "-0.001",
        "1.235",
    ]
    assert "-0.000" not in render_report_html(demo_result(3, n_boot=20), lang="en")
    assert "-0,000" not in render_report_html(demo_result(3, n_boot=20))


@pytest.mark.parametrize(
    ("lang", "number", "other"),
    [("fr", r"\d,\d{3}", r"\d\.\d{3}"), ("en", r"\d\.\d{3}", r"\d,\d{3}")],
)
def test_report_tables_write_numbers_as_the_page_does(lang: str, number: str, other: str) -> None:
    html = render_report_html(demo_result(3, n_boot=20), lang=lang)
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert len([c for c in cells if re.fullmatch(number, c)]) > 20
    assert not [c for c in cells if re.search(other, c)]


ENGLISH_NOTE_WORDS = re.compile(
    r"\b(fewer|only|interviews?|respondents?|missing|coded|registry"
    r"|two|variance|answered|fragile|used|not)\b"
)


def sparse_result() -> prof.ProfileResult:
    """Notes of every kind: a territory absent from the registry, one-type and unanswered
    strata, a single-item scale, a fall-back to coding in the composite."""
    iv = interviews([(1, 1, "sme", "34"), (2, 2, "sme", "34"), (3, 3, "relay", "11")])
    ans = pd.DataFrame(
        [(1, "g1", "4", None), (2, "g1", "2", None)],
        columns=["interview_id", "question_key", "value", "missing"],
    )
    return prof.build_profile(registry_table(), iv, ans, pd.DataFrame(), QUESTIONS, n_boot=0)


def test_every_note_and_warning_of_a_profile_reads_in_french() -> None:
    from analysis.texts import translate_note

    notes = set()
    for res in (sparse_result(), demo_result(3, n_boot=0)):
        notes |= (set(res.profile["note"]) | set(res.alphas["note"]) | set(res.warnings)) - {""}
    assert len(notes) >= 8
    for note in notes:
        french = translate_note(note, "fr")
        assert french != note and not ENGLISH_NOTE_WORDS.search(french), (note, french)
        assert translate_note(note, "en") == note
    html = render_report_html(sparse_result())
    assert "territoire absent de la table du répertoire" in html
    assert "entretien(s) PME, moins de 8 ; D3/D4 fragiles" in html
    assert "fewer than" not in html and "only sme" not in html
    english = render_report_html(sparse_result(), lang="en")
    assert "territory not in registry table" in english


def test_unknown_note_phrases_are_kept_not_dropped() -> None:
    from analysis.texts import translate_note

    assert (
        translate_note("no interview; a phrase from a newer version", "fr")
        == "aucun entretien ; a phrase from a newer version"
    )
    with pytest.raises(ValueError):
        translate_note("no interview", "de")


def test_report_inlines_the_charts_already_drawn_unchanged() -> None:
    from analysis.plots import draw_charts

    res = demo_result(3, n_boot=20)
    for lang in ("fr", "en"):
        drawn = draw_charts(res.profile, lang)
        assert render_report_html(res, lang=lang, charts=drawn) == render_report_html(
            res, lang=lang
        )


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("Hérault", "<h2>Hérault (34)</h2>"),
        ("34", "<h2>34</h2>"),  # a geography whose name column repeats the code
        ("", "<h2>34</h2>"),
    ],
)
def test_report_heads_each_territory_as_its_chart_does(name: str, heading: str) -> None:
    from analysis.texts import territory_label

    res = prof.build_profile(
        registry_table(name=name),
        interviews([(1, 1, "sme", "34")]),
        pd.DataFrame(columns=["interview_id", "question_key", "value", "missing"]),
        pd.DataFrame(),
        QUESTIONS,
        n_boot=0,
    )
    assert heading in render_report_html(res)
    assert "34 (34)" not in render_report_html(res)
    assert f"<h2>{territory_label(name, '34')}</h2>" == heading


def test_rows_show_their_basis_and_no_interval_below_the_saturation_threshold() -> None:
    from analysis.scores import SATURATION_MIN

    tables = synth.demo_interview_tables(per_stratum=8)
    iv, codings = tables["interviews"], tables["codings"]
    in_34 = iv.loc[iv["departement"] == "34", "interview_id"].tolist()
    coded = in_34[:3]  # three coded transcripts in Hérault, one of them coded twice
    kept = codings[codings["interview_id"].isin(coded) | ~codings["interview_id"].isin(in_34)]
    second = kept[kept["interview_id"] == coded[0]].assign(coder="ben")
    kept = pd.concat([kept, second], ignore_index=True)
    res = prof.build_profile(
        registry_table(),
        iv,
        tables["answers_long"],
        kept,
        synth.demo_questions(),
        n_boot=200,
        territories=["34", "30"],
    )
    assert SATURATION_MIN == 10
    for dim in ("D3", "D4_GOV", "D4_STRAT"):
        row = value(res, "34", dim, "coding")
        assert (row["n_basis"], row["n_coders"]) == (3, 2)
        assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
        assert row["note"].startswith("too few coded interviews (n = 3)")
        likert = value(res, "34", dim, "likert")
        assert likert["n_basis"] == 16 and likert["n_items"] >= 16
        assert likert["ci_low"] < likert["value"] < likert["ci_high"]
        other = value(res, "30", dim, "coding")  # 16 coded transcripts: an interval
        assert other["n_basis"] == 16 and other["ci_low"] <= other["ci_high"]
        assert "too few" not in other["note"]
    d1 = value(res, "34", "D1", "registry")
    assert (d1["n_basis"], d1["n_firms"]) == (3, 100)


def test_chart_says_too_few_beside_a_point_without_interval() -> None:
    from analysis import plots

    tables = synth.demo_interview_tables(per_stratum=8)
    iv = tables["interviews"]
    coded = iv.loc[iv["departement"] == "34", "interview_id"].tolist()[:3]
    codings = tables["codings"][tables["codings"]["interview_id"].isin(coded)]
    args = (registry_table(), iv, tables["answers_long"])
    res = prof.build_profile(*args, codings, synth.demo_questions(), n_boot=100, territories=["34"])
    texts = [t.get_text() for t in plots.territory_figure(res.profile, "34", "fr").axes[0].texts]
    assert texts.count("trop peu d’entretiens codés (n = 3)") == 3
    full = prof.build_profile(
        *args, tables["codings"], synth.demo_questions(), n_boot=100, territories=["34"]
    )
    assert len(plots.territory_figure(full.profile, "34", "fr").axes[0].texts) == 0
