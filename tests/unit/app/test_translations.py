"""The French interface is complete and its compiled catalogue is up to date."""

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "survey_app/translations/fr/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


def _key(value):
    """A message id or string as a dict key: plural ones (ngettext) come as lists or tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(string) -> bool:
    """A translation is there: every plural form of it too."""
    return all(string) if isinstance(string, list | tuple) else bool(string)


def test_every_interface_message_has_a_french_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "survey_app",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as fh:
        wanted = {_key(m.id) for m in read_po(fh) if m.id}
    with open(PO, "rb") as fh:
        french = {_key(m.id): m.string for m in read_po(fh) if m.id and not m.fuzzy}
    missing = sorted(str(m) for m in wanted if not _translated(french.get(m)))
    assert not missing, f"run `python scripts/i18n.py` and translate: {missing}"


def test_compiled_catalogue_matches_the_po_file():
    with open(PO, "rb") as fh:
        source = {
            _key(m.id): _key(m.string)
            for m in read_po(fh)
            if m.id and _translated(m.string) and not m.fuzzy
        }
    with open(MO, "rb") as fh:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    assert compiled == source, "run `pybabel compile -d survey_app/translations`"
