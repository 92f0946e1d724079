"""Fixtures of the export tests: small synthetic projects and one spaCy model per session."""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.datasets import Dataset
from analysis.synthetic_project import FIRMS, PERSONS, synthetic_dataset


@pytest.fixture
def small_ds() -> Dataset:
    """Return a 10-interview, 80-coding project (both guides, all question kinds)."""
    return synthetic_dataset(n_interviews=10, n_codings=80, seed=3, text_length=900)


def demo_like() -> Dataset:
    """Return a small project whose registry holds every firm the transcripts name."""
    ds = synthetic_dataset(n_interviews=9, n_codings=90, seed=11, text_length=1200)
    names = list(FIRMS) + [f"CCI de {p}" for p in ("Rodez", "Millau")]
    orgs = ds.organisations.copy()
    orgs["name"] = [names[i % len(names)] for i in range(len(orgs))]
    ds.organisations = orgs
    answers = ds.answers_long.copy()
    free = answers["question_key"].isin(["a1_parcours", "b1_mission"]) & answers["value"].notna()
    answers.loc[free, "value"] = [
        f"Grâce à {PERSONS[i % len(PERSONS)]}, {FIRMS[i % len(FIRMS)]} vend au Japon."
        for i in range(int(free.sum()))
    ]
    ds.answers_long = answers
    return ds


@pytest.fixture
def demo_ds() -> Dataset:
    """Return the demo-like project (known firm, person and place names)."""
    return demo_like()


@pytest.fixture(scope="session")
def ner():
    """Load the French NER pipeline once for the whole session."""
    from coding.pseudonymise import load_ner

    return load_ner("fr_core_news_md")


@pytest.fixture
def person_terms() -> dict[str, str]:
    """Return the project's list of interviewees' names, as extra terms."""
    return {name: "PERS" for name in PERSONS}


@pytest.fixture
def pspp() -> str:
    """Return the pspp path; skip outside CI when it is absent, fail in CI."""
    path = shutil.which("pspp") or ("/usr/bin/pspp" if os.path.exists("/usr/bin/pspp") else None)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("pspp is required in CI (Debian package pspp) but /usr/bin/pspp is absent")
    pytest.skip("pspp not installed (apt-get install pspp); the .sav is still read by pyreadstat")
