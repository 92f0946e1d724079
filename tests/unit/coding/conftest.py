"""Shared fixtures for the coding tests: the corpus, spaCy pipelines and one small model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coding.codebook import default_codebook

CORPUS = Path(__file__).resolve().parents[3] / "coding" / "data" / "corpus.csv"


@pytest.fixture(scope="session")
def codebook():
    return default_codebook()


@pytest.fixture(scope="session")
def corpus() -> pd.DataFrame:
    return pd.read_csv(CORPUS, keep_default_na=False, dtype=str)


@pytest.fixture(scope="session")
def small_train(corpus) -> pd.DataFrame:
    """A small, seeded slice of the training split that still covers every code."""
    train = corpus[corpus["split"] == "train"]
    return train.sample(n=240, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="session")
def small_model(small_train, codebook):
    from coding.model import parse_labels, train_model

    sets, level = parse_labels(small_train["codes"], codebook)
    return train_model(
        small_train["text"].tolist(),
        sets,
        codebook,
        level,
        folds=0,
        groups=small_train["group"].tolist(),
    )


@pytest.fixture(scope="session")
def sentence_nlp():
    from coding.nlp import load_nlp

    return load_nlp("sentences")
