"""The shipped codebook and the spaCy pipeline loader (components, blank fallback)."""

from __future__ import annotations

import hashlib

import pytest

from coding.codebook import CodebookError, default_codebook_path, load_codebook, parse_codebook
from coding.nlp import ModelMissingWarning, load_nlp


def test_shipped_codebook(codebook):
    assert codebook.families == ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")
    assert len(codebook.codes) == 20
    sizes = [len(codebook.codes_of(f)) for f in codebook.families]
    assert sizes == [7, 7, 5, 1]
    for code in codebook.codes:
        prefix = code.split(".")[0]
        expected = {"GOV": "GOVERNANCE", "STR": "STRATEGY", "DYN": "DYNAMICS", "OTH": "OTHER"}
        assert codebook.family_of(code) == expected[prefix]
        c = codebook.code_map[code]
        assert c.label["fr"] and c.label["en"] and c.definition and c.keywords and c.example
    assert codebook.family_of("STRATEGY") == "STRATEGY"
    assert codebook.sha256 == hashlib.sha256(default_codebook_path().read_bytes()).hexdigest()
    assert codebook.version


def _minimal(**over):
    code = {
        "label": {"fr": "a", "en": "a"},
        "definition": "d",
        "include": [],
        "exclude": [],
        "keywords": ["k"],
        "example": "e",
    }
    fams = {f: {"codes": {}} for f in ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")}
    fams["GOVERNANCE"]["codes"]["GOV.X"] = code
    data = {"version": "1", "families": fams}
    data.update(over)
    return data


def test_codebook_validation():
    assert parse_codebook(_minimal()).codes == ["GOV.X"]
    with pytest.raises(CodebookError, match="families"):
        parse_codebook(_minimal(families={"GOVERNANCE": {"codes": {}}}))
    bad = _minimal()
    bad["families"]["STRATEGY"]["codes"]["GOV.Y"] = bad["families"]["GOVERNANCE"]["codes"]["GOV.X"]
    with pytest.raises(CodebookError, match="must start with STR"):
        parse_codebook(bad)
    bad = _minimal()
    del bad["families"]["GOVERNANCE"]["codes"]["GOV.X"]["example"]
    with pytest.raises(CodebookError, match="example"):
        parse_codebook(bad)
    with pytest.raises(CodebookError, match="version"):
        parse_codebook({"families": {}})


def test_imported_codes_stay_out_of_the_themes():
    # codes from another QDA tool keep their names beside the families, not among them:
    # the classifier's label space and family_of never see them
    label = {"fr": "Réseaux", "en": "Réseaux"}
    book = parse_codebook(
        _minimal(
            imported={
                "Réseaux": {"label": label, "definition": "", "parent": None},
                "Clubs d'exportateurs": {"label": label, "parent": "Réseaux", "color": "#FF8000"},
            }
        )
    )
    assert book.codes == ["GOV.X"] and not book.is_known("Réseaux")
    assert book.imported["Clubs d'exportateurs"]["parent"] == "Réseaux"
    with pytest.raises(CodebookError, match="parent 'Ailleurs' is not an imported code"):
        parse_codebook(_minimal(imported={"x": {"label": label, "parent": "Ailleurs"}}))
    with pytest.raises(CodebookError, match="code GOV.X: defined twice"):
        parse_codebook(_minimal(imported={"GOV.X": {"label": label}}))


def test_unreadable_codebook(tmp_path):
    with pytest.raises(CodebookError, match="cannot read"):
        load_codebook(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("version: [unclosed")
    with pytest.raises(CodebookError, match="YAML"):
        load_codebook(tmp_path / "bad.yaml")


def test_tag_pipeline_runs_only_needed_components():
    nlp = load_nlp("tag")
    assert nlp.pipe_names == ["tok2vec", "morphologizer", "attribute_ruler", "lemmatizer"]
    assert load_nlp("sentences").pipe_names == ["senter"]
    assert load_nlp("tag") is nlp  # cached


def test_missing_model_falls_back_to_blank_french_with_a_warning():
    from coding.classifier import SpacyAnalyzer
    from coding.segment import segment

    with pytest.warns(ModelMissingWarning, match="not installed"):
        nlp = load_nlp("sentences", "xx_no_such_model")
    text = "Q : Bonjour. Ça va ?\nR : Oui, très bien."
    sentences = [text[s.start : s.end] for s in segment(text, nlp) if s.kind == "sentence"]
    assert sentences == ["Bonjour.", "Ça va ?", "Oui, très bien."]
    with pytest.warns(ModelMissingWarning):
        frame = SpacyAnalyzer(model="xx_no_such_model").fit(["x"]).transform(["Les Clubs export"])
    assert frame.loc[0, "lemmas"] == "les clubs export"


def test_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        load_nlp("everything")


def test_concurrent_first_loads_share_one_pipeline() -> None:
    """The server's warm-up thread and a request loading at once get the same object."""
    import threading

    from survey_app.core.commands import start_warm_up

    got = []
    warm = start_warm_up()
    asker = threading.Thread(target=lambda: got.append(load_nlp("sentences")))
    asker.start()
    warm.join(60)
    asker.join(60)
    assert got and got[0] is load_nlp("sentences")
    assert got[0].pipe_names == ["senter"]
