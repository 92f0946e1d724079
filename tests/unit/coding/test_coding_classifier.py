"""Classifier conventions, quality floor on the held-out corpus, persistence and refusal.

Why not the full `parametrize_with_checks`: ThresholdedOneVsRest is multi-label only (it needs
a 2-D indicator Y; the generic checks feed 1-D class labels), and the pipeline's first step
takes raw French text, which the generic checks cannot generate. We run the data-free checks
from sklearn and test the remaining conventions (clone, fit returns self, fitted attributes
end in "_", NotFittedError, determinism) directly.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from coding.classifier import KeywordHits, SpacyAnalyzer, ThresholdedOneVsRest, make_theme_pipeline
from coding.codebook import parse_codebook
from coding.model import (
    LabelError,
    ModelCodebookMismatch,
    ModelError,
    indicator,
    load_model,
    metrics_report,
    parse_labels,
    save_model,
)

ESTIMATORS = [ThresholdedOneVsRest(), KeywordHits({"X": ["a"]}), SpacyAnalyzer()]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_data_free_checks(est):
    check_no_attributes_set_in_init(type(est).__name__, est)
    check_parameters_default_constructible(type(est).__name__, type(est)())


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_clone_keeps_params(est):
    assert clone(est).get_params() == est.get_params()


def _toy(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    Y = np.column_stack([(X[:, 0] > 0.3), (X[:, 1] + X[:, 2] > 0), np.zeros(n)]).astype(int)
    return X, Y


def test_fit_returns_self_and_fitted_attributes_end_with_underscore():
    X, Y = _toy()
    est = ThresholdedOneVsRest(cv=3)
    before = set(vars(est))
    assert est.fit(X, Y) is est
    added = set(vars(est)) - before
    assert added and all(a.endswith("_") for a in added)
    proba = est.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert est.predict(X)[:, 2].sum() == 0  # a code never seen positive is never predicted
    assert (est.predict(X)[:, 0] == Y[:, 0]).mean() > 0.9


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        ThresholdedOneVsRest().predict(np.zeros((2, 3)))


def test_deterministic_with_random_state():
    X, Y = _toy()
    a = ThresholdedOneVsRest(random_state=3).fit(X, Y).predict_proba(X)
    b = ThresholdedOneVsRest(random_state=3).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_rejects_one_dimensional_y():
    with pytest.raises(ValueError, match="2-D"):
        ThresholdedOneVsRest().fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]))


def test_pipeline_factory_names_steps(codebook):
    pipe = make_theme_pipeline({"GOV.FRAG": ["doublon"]}, C=2.0)
    assert [n for n, _ in pipe.steps] == ["analyse", "features", "model"]
    assert pipe.get_params()["model__C"] == 2.0


def test_small_model_beats_chance_on_heldout(small_model, corpus, codebook):
    held = corpus[corpus["split"] == "heldout"]
    sets, _ = parse_labels(held["codes"], codebook)
    P = (small_model.predict_proba(held["text"].tolist()) >= small_model.thresholds).astype(int)
    report = metrics_report(indicator(sets, small_model.codes), P, small_model.codes, codebook)
    # Trained on 240 segments only: far from the shipped model, but clearly above chance.
    assert report["macro_f1"] > 0.15
    assert report["mean_family_alpha"] > 0.1


def test_keyword_hits_count_surface_and_lemmas():
    hits = KeywordHits({"A": ["club export", "adhérer"], "B": ["iso"]}).fit(None)
    out = hits.transform([["au club export on", "au club export on"], ["nous", "adhérer iso"]])
    np.testing.assert_array_equal(out, [[1, 0], [1, 1]])


def test_labels_accept_families_and_refuse_unknown(codebook):
    sets, level = parse_labels(["GOV.FRAG;STRATEGY", ""], codebook)
    assert level == "family" and sets[0] == {"GOVERNANCE", "STRATEGY"} and sets[1] == set()
    with pytest.raises(LabelError, match="GOV.NOPE"):
        parse_labels(["GOV.FRAG", "GOV.NOPE"], codebook)


def test_save_load_round_trip(small_model, codebook, tmp_path):
    save_model(small_model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["codebook_version"] == codebook.version
    assert meta["codebook_sha256"] == codebook.sha256
    assert meta["training_size"] == 240 and "trained_at" in meta
    assert not list((tmp_path / "m").glob("*.tmp"))
    loaded = load_model(tmp_path / "m", codebook)
    texts = ["Bon, la CCI et la Région se coordonnent bien.", "On vise le Japon."]
    np.testing.assert_allclose(loaded.predict_proba(texts), small_model.predict_proba(texts))


def test_refuses_model_from_another_codebook_version(small_model, codebook, tmp_path):
    save_model(small_model, tmp_path / "m")
    other = parse_codebook({"version": "9.9.9", "families": _families_of(codebook)}, "x")
    with pytest.raises(ModelCodebookMismatch, match="9.9.9"):
        load_model(tmp_path / "m", other)


def test_refuses_corrupt_or_missing_model(small_model, codebook, tmp_path):
    with pytest.raises(ModelError, match="metadata"):
        load_model(tmp_path / "nowhere", codebook)
    save_model(small_model, tmp_path / "m")
    (tmp_path / "m" / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="skops"):
        load_model(tmp_path / "m", codebook)


def test_shipped_default_model_loads(codebook, tmp_path):
    from coding.model import default_model_dir

    model = load_model(default_model_dir(), codebook)
    assert model.codes == codebook.codes
    assert model.meta["training_size"] >= 600
    shutil.copytree(default_model_dir(), tmp_path / "d")
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    meta["codebook_version"] = "0.0.1"
    (tmp_path / "d" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelCodebookMismatch):
        load_model(tmp_path / "d", codebook)


def _families_of(cb):
    fams = {}
    for fam in cb.families:
        prefix = {"GOVERNANCE": "GOV", "STRATEGY": "STR", "DYNAMICS": "DYN", "OTHER": "OTH"}[fam]
        fams[fam] = {
            "prefix": prefix,
            "codes": {
                c: {
                    "label": cb.code_map[c].label,
                    "definition": cb.code_map[c].definition,
                    "include": list(cb.code_map[c].include),
                    "exclude": list(cb.code_map[c].exclude),
                    "keywords": list(cb.code_map[c].keywords),
                    "example": cb.code_map[c].example,
                }
                for c in cb.codes_of(fam)
            },
        }
    return fams
