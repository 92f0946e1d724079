"""A REFI-QDA file uploaded for import: checked before any job starts, kept until it runs."""

from __future__ import annotations

import re
from pathlib import Path

from flask_babel import lazy_gettext as _l

from analysis.file_io import atomic_path
from survey_app.exports.jobs import import_folder

REFI_SUFFIXES = (".qdpx", ".qdc")
ZIP_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"


class UploadError(ValueError):
    """An upload refused before anything was stored; its text is for the page."""


def check_refi_upload(filename: str, data: bytes) -> str:
    """Return the name to store the upload under; raise UploadError if it cannot be a
    REFI-QDA file (wrong extension, empty, not a zip or not XML). Its size is bounded
    before it gets here: the app refuses any request above MAX_CONTENT_LENGTH (413)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in REFI_SUFFIXES:
        raise UploadError(_l("Choose a REFI-QDA project (.qdpx) or codebook (.qdc) file."))
    if not data:
        raise UploadError(_l("The file is empty."))
    if suffix == ".qdpx" and not data.startswith(ZIP_MAGIC):
        raise UploadError(_l("This .qdpx file is not a zip archive: export the project again."))
    if suffix == ".qdc" and not data.removeprefix(UTF8_BOM).lstrip().startswith(b"<"):
        raise UploadError(_l("This .qdc file is not XML: export the codebook again."))
    # the name is shown back and recorded in the audit log: keep it plain and short
    stem = re.sub(r"[^\w.-]+", "_", Path(filename).stem).strip("._")[:80] or "upload"
    return stem + suffix


def store_refi_upload(job_id: int, name: str, data: bytes) -> Path:
    """Write the upload where the import job reads it (whole, or not at all)."""
    target = import_folder(job_id) / name
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target
