"""Invalid instruments are refused with the path of the faulty question."""

import copy
from pathlib import Path

import pytest
import yaml

from survey_app.instruments.definitions import (
    InstrumentError,
    instrument_from_dict,
    load_instrument,
)
from survey_app.instruments.validate import codebook_codes

MINI = Path(__file__).with_name("mini_instrument.yaml")
BASE = yaml.safe_load(MINI.read_text(encoding="utf-8"))


def broken(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def question(data, section, index):
    return data["sections"][section]["questions"][index]


def error_of(data, **kwargs) -> str:
    with pytest.raises(InstrumentError) as info:
        instrument_from_dict(data, **kwargs)
    return str(info.value)


def test_mini_instrument_is_valid():
    assert load_instrument(MINI).question("share").relevant == "exports = 'yes'"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: question(d, 1, 2).update(relevant="a99 = 1"),
            "sections[1].questions[2].relevant: unknown question 'a99'",
        ),
        (
            lambda d: question(d, 1, 0).update(relevant="q1 >= 4"),
            "sections[1].questions[0].relevant: unknown question 'q1'",
        ),
        (
            lambda d: question(d, 1, 1).update(constraint="share <= 100"),
            "sections[1].questions[1].constraint: refer to the question itself as '.'",
        ),
        (
            lambda d: question(d, 1, 1).update(relevant="exports = "),
            "sections[1].questions[1].relevant: unexpected 'end'",
        ),
        (
            lambda d: question(d, 1, 1).update(relevant="__import__('os')"),
            "sections[1].questions[1].relevant: unknown function '__import__'",
        ),
        (
            lambda d: question(d, 1, 1).update(relevant=". > 1"),
            "sections[1].questions[1].relevant: '.' is only meaningful in a constraint",
        ),
        (
            lambda d: question(d, 1, 3).update(key="exports"),
            "sections[1].questions[3].key: duplicate question key 'exports'",
        ),
        (
            lambda d: question(d, 1, 4).update(choices="likert7"),
            "sections[1].questions[4].choices: unknown choice list 'likert7'",
        ),
        (
            lambda d: question(d, 1, 6).update(choices="likert5"),
            "sections[1].questions[6].choices: a decimal question takes no choice list",
        ),
        (
            lambda d: question(d, 1, 4).pop("choices"),
            "sections[1].questions[4]: 'choices' is a required property",
        ),
        (
            lambda d: question(d, 1, 0).update(key="Exports"),
            "sections[1].questions[0].key: 'Exports' does not match",
        ),
        (lambda d: question(d, 1, 0).update(key="a" * 33), "sections[1].questions[0].key:"),
        (
            lambda d: question(d, 1, 0).update(key="and"),
            "sections[1].questions[0].key: 'and' is a reserved word",
        ),
        (
            lambda d: question(d, 1, 0).update(key="a__b"),
            "sections[1].questions[0].key: 'a__b': no double underscore",
        ),
        (
            lambda d: question(d, 1, 0).update(type="slider"),
            "sections[1].questions[0].type: 'slider' is not one of",
        ),
        (
            lambda d: question(d, 1, 0).update(lable={"fr": "x", "en": "x"}),
            "sections[1].questions[0]: unknown field(s) ('lable' was unexpected)",
        ),
        (
            lambda d: question(d, 1, 0)["label"].pop("en"),
            "sections[1].questions[0].label: 'en' is a required property",
        ),
        (
            lambda d: question(d, 1, 0).update(reverse=True),
            "sections[1].questions[0].reverse: only likert items can be reverse-scored",
        ),
        (
            lambda d: question(d, 1, 4).update(d="D5"),
            "sections[1].questions[4].d: 'D5' is not one of",
        ),
        (
            lambda d: question(d, 1, 4).update(codes=["GOV.NOPE"]),
            "sections[1].questions[4].codes[0]: unknown codebook code 'GOV.NOPE'",
        ),
        (
            lambda d: d["sections"][1]["questions"].append(
                {"key": "late", "type": "consent", "label": {"fr": "x", "en": "x"}}
            ),
            "sections[1].questions[8].type: consent questions must come first",
        ),
        (
            lambda d: d["sections"].reverse(),
            "sections[0].questions[0]: the first question must be a consent",
        ),
        (
            lambda d: question(d, 0, 0).update(relevant="1 = 1"),
            "sections[0].questions[0].relevant: not allowed on a consent question",
        ),
        (
            lambda d: d["choice_lists"]["modes"].append(
                {"value": "dont_know", "label": {"fr": "x", "en": "x"}}
            ),
            "choice_lists.modes[3].value: 'dont_know' is reserved for missing answers",
        ),
        (
            lambda d: d["choice_lists"]["modes"].append(
                {"value": "agent", "label": {"fr": "x", "en": "x"}}
            ),
            "choice_lists.modes[3].value: duplicate choice value 'agent'",
        ),
        (
            lambda d: d["choice_lists"]["modes"].append(
                {"value": "two words", "label": {"fr": "x", "en": "x"}}
            ),
            "choice_lists.modes[3].value: 'two words' does not match",
        ),
        (lambda d: d.update(respondent_type="bank"), "respondent_type: 'bank' is not one of"),
        (
            lambda d: [q.update(required=False) for q in d["sections"][0]["questions"]],
            "sections[0].questions[0].required: at least one consent must be required",
        ),
    ],
)
def test_error_names_the_faulty_place(change, expected):
    assert expected in error_of(broken(change), codes=codebook_codes())


def test_every_problem_is_listed():
    def two_faults(d):
        question(d, 1, 2)["relevant"] = "a99 = 1"
        question(d, 1, 5)["relevant"] = "zz = 1"

    with pytest.raises(InstrumentError) as info:
        instrument_from_dict(broken(two_faults))
    paths = [path for path, _ in info.value.problems]
    assert paths == ["sections[1].questions[2].relevant", "sections[1].questions[5].relevant"]


def test_codes_are_not_checked_without_a_codebook(tmp_path):
    data = broken(lambda d: question(d, 1, 4).update(codes=["GOV.NOPE"]))
    assert instrument_from_dict(data, codes=None).question("q1").codes == ("GOV.NOPE",)


def test_project_codebook_is_read_leniently(tmp_path):
    assert {"GOV.FRAG", "STR.MODE", "DYN.INIT", "OTH.RESID"} <= codebook_codes()
    nested = tmp_path / "codebook.yaml"
    nested.write_text("codes:\n  - {code: GOV.ONE}\n  - {code: STR.TWO}\n", encoding="utf-8")
    assert codebook_codes(nested) == {"GOV.ONE", "STR.TWO"}
    nested.write_text(": not yaml [", encoding="utf-8")
    assert codebook_codes(nested) is None


def test_sibling_codebook_is_used_when_present(tmp_path):
    (tmp_path / "codebook.yaml").write_text("codes: [{code: GOV.FRAG}]\n", encoding="utf-8")
    target = tmp_path / "mini.yaml"
    target.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InstrumentError, match="unknown codebook code 'STR.MODE'"):
        load_instrument(target)


def test_unreadable_yaml_is_an_instrument_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match="cannot read bad.yaml"):
        load_instrument(bad)
