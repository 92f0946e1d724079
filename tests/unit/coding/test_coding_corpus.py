"""The cold-start corpus: hand-written statements over six registers, and the CSV built from them.

What a user relies on: the shipped model is trained on enough distinct statements, in every
register a researcher will code (spoken interviews, formal speech, institutional and academic
prose, the press), covering every code, with many on-topic sentences that carry no theme; the
held-out figures are honest (no statement on both sides); corpus.csv is what make_corpus
generates and keeps the columns its readers expect.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import pytest

from coding.data import make_corpus
from coding.data.statements import REGISTERS, SPOKEN, statements

SIX = ("spoken_sme", "spoken_relay", "formal_relay", "institutional", "academic", "press")


@pytest.fixture(scope="module")
def items():
    return [s for s in statements() if s.register in SIX]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_six_registers_and_at_least_1000_statements(items):
    assert tuple(REGISTERS) == SIX
    counts = Counter(s.register for s in items)
    assert len(items) >= 1000
    assert all(counts[r] >= 170 for r in SIX), counts


def test_statements_are_distinct_not_variants_of_each_other(items):
    texts = [" ".join(sorted(_words(s.text))) for s in items]
    assert len(set(texts)) == len(texts)
    words = [_words(s.text) for s in items]
    close = [
        (items[i].key, items[j].key)
        for i, j in itertools.combinations(range(len(items)), 2)
        if len(words[i] & words[j]) / len(words[i] | words[j]) > 0.5
    ]
    assert not close
    assert not any("{" in s.text for s in items)  # no slots left to fill


def test_statements_are_full_sentences_of_varied_length(items):
    lengths = [len(s.text.split()) for s in items if s.kind != "small_talk"]
    assert min(lengths) >= 8 and max(lengths) <= 45
    assert sum(n >= 25 for n in lengths) >= 50  # not only short lines


def test_every_code_is_covered_in_every_register(items, codebook):
    per = Counter((s.register, c) for s in items for c in s.codes)
    thin = [(r, c) for r in SIX for c in codebook.codes if per[(r, c)] < 5]
    assert not thin
    assert {c for s in items for c in s.codes} <= set(codebook.codes)


def test_multi_label_statements_in_every_register(items):
    multi = Counter(s.register for s in items if len(s.codes) > 1)
    assert all(multi[r] >= 5 for r in SIX), multi


def test_negatives_are_many_and_mostly_on_topic(items):
    negatives = [s for s in items if not s.codes]
    assert len(negatives) / len(items) >= 0.35
    on_topic = [s for s in negatives if s.kind == "negative"]
    assert len(on_topic) / len(negatives) >= 0.9
    assert all(s.register in SPOKEN for s in negatives if s.kind == "small_talk")
    assert all(sum(1 for s in on_topic if s.register == r) >= 60 for r in SIX)


def test_corpus_csv_is_what_make_corpus_writes(corpus):
    rng = random.Random(make_corpus.SEED)
    rows = make_corpus.build(rng)
    rng.shuffle(rows)
    assert list(corpus.columns) == make_corpus.FIELDS
    assert corpus.drop(columns="id").to_dict("records") == rows


def test_heldout_split_is_by_statement_and_spread_over_registers(corpus, items, codebook):
    assert set(corpus["split"]) == {"train", "heldout"}
    sides = corpus.groupby("group")["split"].nunique()
    assert (sides == 1).all()
    assert {s.key for s in statements()} == set(corpus["group"])
    held_keys = set(corpus.loc[corpus["split"] == "heldout", "group"])
    for reg in SIX:
        keys = [s.key for s in items if s.register == reg]
        share = sum(k in held_keys for k in keys) / len(keys)
        assert 0.15 <= share <= 0.25, (reg, share)
    held = corpus[corpus["split"] == "heldout"]
    held_codes = {c for cell in held["codes"] for c in cell.split(";") if c}
    assert held_codes == set(codebook.codes)


def test_joined_turns_keep_both_statements_codes_and_one_split(corpus, items):
    by_key = {s.key: s for s in items}
    first = corpus[corpus["group"].map(lambda g: g in by_key)]
    joined = first[first["codes"] != first["group"].map(lambda g: ";".join(by_key[g].codes))]
    assert len(joined) > 0 and set(joined["register"]) <= set(SPOKEN)
    for _, row in joined.iterrows():
        assert set(by_key[row["group"]].codes) < set(row["codes"].split(";"))
