"""Load the spaCy pipelines the coding engine needs, running only the components used."""

from __future__ import annotations

import logging
import threading
import warnings
from functools import lru_cache

import spacy
from spacy.language import Language

log = logging.getLogger(__name__)

MODEL_NAME = "fr_core_news_md"
#: Components for lemmas (the French rule lemmatizer needs POS from the morphologizer).
TAGGING_COMPONENTS: tuple[str, ...] = ("tok2vec", "morphologizer", "attribute_ruler", "lemmatizer")
#: The statistical sentence splitter has its own embedding layer: nothing else is needed.
SENTENCE_COMPONENTS: tuple[str, ...] = ("senter",)
#: Mode names accepted by load_nlp.
MODES: dict[str, tuple[str, ...]] = {"tag": TAGGING_COMPONENTS, "sentences": SENTENCE_COMPONENTS}


class ModelMissingWarning(UserWarning):
    """Warn that the French model is missing and a blank pipeline is used instead."""


def _blank(mode: str) -> Language:
    nlp = spacy.blank("fr")
    if mode == "sentences":
        nlp.add_pipe("sentencizer")
    return nlp


def _load_model(name: str, mode: str) -> Language:
    keep = MODES[mode]
    # Load with every component disabled first to learn the names, then exclude the unused ones.
    info = spacy.util.get_package_path(name)
    meta = spacy.util.load_meta(info / "meta.json") if (info / "meta.json").exists() else {}
    components = meta.get("components") or meta.get("pipeline") or []
    exclude = [c for c in components if c not in keep]
    nlp = spacy.load(name, exclude=exclude)
    for comp in keep:
        if comp in nlp.disabled:
            nlp.enable_pipe(comp)
    return nlp


_LOAD_LOCK = threading.Lock()


def load_nlp(mode: str = "tag", name: str = MODEL_NAME) -> Language:
    """Return a cached pipeline for `mode` ("tag": lemmas; "sentences": sentence splits).

    Thread-safe: a server warming the pipeline up and a request asking for it at the same
    moment share one load instead of loading the model twice.
    """
    with _LOAD_LOCK:
        return _load_cached(mode, name)


@lru_cache(maxsize=8)
def _load_cached(mode: str, name: str) -> Language:
    if mode not in MODES:
        raise ValueError(f"unknown nlp mode {mode!r}; expected one of {sorted(MODES)}")
    try:
        nlp = _load_model(name, mode)
    except (OSError, ImportError) as exc:
        msg = f"spaCy model {name} is not installed ({exc}); using a blank French pipeline"
        log.warning(msg)
        warnings.warn(msg, ModelMissingWarning, stacklevel=2)
        return _blank(mode)
    return nlp


def has_lemmas(nlp: Language) -> bool:
    """Tell whether the pipeline produces real lemmas (not the blank fallback)."""
    return "lemmatizer" in nlp.pipe_names


def has_vectors(nlp: Language) -> bool:
    """Tell whether the pipeline's vocabulary carries word vectors."""
    return nlp.vocab.vectors.shape[0] > 0 and nlp.vocab.vectors.shape[1] > 0
