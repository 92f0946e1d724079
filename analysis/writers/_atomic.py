"""Atomic writes: build the output beside its target, then rename it into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analysis.file_io import atomic_path

__all__ = ["atomic_dir", "atomic_path"]


def _default_mode(path: Path, mode: int) -> None:
    """Give a temp file the permissions a plain open() would (mkstemp makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


#: A folder holding this file is an earlier export, which a new export may replace.
EXPORT_MARKER = "dictionary.csv"


def _check_replaceable(target: Path) -> None:
    """Refuse to replace a file or a folder that is not an earlier export (never lose data)."""
    if target.is_file():
        raise FileExistsError(f"{target} is a file; give a folder name or a .zip path")
    if target.is_dir() and any(target.iterdir()) and not (target / EXPORT_MARKER).is_file():
        raise FileExistsError(
            f"{target} is a non-empty folder that is not a Milieu export; choose a new folder"
        )


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; swap it in for `path` on success."""
    target = Path(path)
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    _default_mode(tmp, 0o777)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        # A folder cannot be replaced in one rename when it is not empty: move it aside first.
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / "previous")
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
