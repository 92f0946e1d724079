"""Milieu's instruments as data: interview guides, codebook, relay-actor typology, schema.

The folder installs as the `milieu_instruments` package; `path()` is the one way the code finds
its files, in the source tree and in an installed copy alike.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def path(name: str = "") -> Path:
    """Return the path of a file of this folder (the folder itself without a name)."""
    return FOLDER / name if name else FOLDER
