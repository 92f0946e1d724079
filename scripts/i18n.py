"""Update the message catalogues: extract, merge into each language, compile.

python scripts/i18n.py                 extract + update + compile
python scripts/i18n.py --check         fail when a French message is missing or stale
python scripts/i18n.py --fill FILE.json  add French translations {msgid: text}, compile

A plural message (ngettext) is keyed by its singular msgid; its French is a list of forms,
e.g. {"%(num)d interview": ["%(num)d entretien", "%(num)d entretiens"]}.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "survey_app" / "translations"
POT = TRANSLATIONS / "messages.pot"
BIN = Path(sys.executable).parent


def run(*args: str) -> None:
    subprocess.run([str(BIN / "pybabel"), *args], check=True, cwd=ROOT)


def update() -> None:
    run(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "-o",
        str(POT),
        "survey_app",
    )
    run("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")
    run("compile", "-d", str(TRANSLATIONS), "--statistics")


def untranslated(lang: str = "fr") -> list[str]:
    """Return the message ids without a translation in `lang`."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    return [_key(m) for m in catalog if m.id and (_missing(m) or m.fuzzy)]


def _key(message) -> str:
    """A message's key in a translations file: its msgid, the singular one for a plural."""
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def _missing(message) -> bool:
    if isinstance(message.string, tuple | list):  # plural: every form must be there
        return not all(message.string)
    return not message.string


def fill(translations: dict[str, str], lang: str = "fr") -> None:
    """Set translations for message ids that have none, then compile."""
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    with open(po, "rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        key = _key(message) if message.id else None
        if key in translations and _missing(message):
            text = translations[key]
            if isinstance(message.id, tuple | list):
                forms = list(text) if isinstance(text, list) else [text, text]
                # French has three CLDR forms (one, many, other): the plural fills the rest
                forms += [forms[-1]] * (catalog.num_plurals - len(forms))
                message.string = tuple(forms[: catalog.num_plurals])
            elif isinstance(text, str):
                message.string = text
            message.flags.discard("fuzzy")
    with open(po, "wb") as fh:
        write_po(fh, catalog, no_location=True)  # the width pybabel update wraps at (76)
    run("compile", "-d", str(TRANSLATIONS))


if __name__ == "__main__":
    if "--fill" in sys.argv:
        import json

        fill(json.loads(Path(sys.argv[sys.argv.index("--fill") + 1]).read_text(encoding="utf-8")))
        sys.exit(0)
    if "--check" in sys.argv:
        missing = untranslated()
        for msgid in missing:
            print(f"untranslated: {msgid}")
        sys.exit(1 if missing else 0)
    update()
