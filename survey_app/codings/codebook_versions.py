"""The codebook in the database: immutable versions loaded from instruments/codebook.yaml."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from coding.codebook import default_codebook_path, parse_codebook
from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import Code, CodebookVersion, User


class CodebookLoadError(ValueError):
    """A codebook file that cannot be loaded, or a changed file under a loaded version."""


def load_codebook_file(
    path: Path | None = None, user: User | None = None, rationale: str = ""
) -> tuple[CodebookVersion, bool]:
    """Load the codebook file as a version (the current one); return it and whether it is new."""
    path = Path(path or default_codebook_path())
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    data = yaml.safe_load(raw.decode("utf-8"))
    book = parse_codebook(data, sha256=sha)
    existing = db.session.scalar(
        sa.select(CodebookVersion).where(CodebookVersion.version == book.version)
    )
    if existing is not None:
        if existing.sha256 != sha:
            raise CodebookLoadError(
                f"codebook version {book.version} is already loaded with other content; a "
                "loaded version is immutable: give the file a new version"
            )
        return existing, False
    rationale = rationale or f"loaded from {path.name}"
    version = new_codebook_version(data, book.version, sha, user, rationale)
    for key in book.codes:
        code = book.code_map[key]
        version.codes.append(
            Code(
                key=key,
                family=code.family,
                label_fr=code.label.get("fr", key),
                label_en=code.label.get("en", code.label.get("fr", key)),
                definition=code.definition,
            )
        )
    db.session.flush()
    record("codebook.load", version, {"version": book.version, "sha256": sha}, user=user)
    return version, True


def new_codebook_version(
    content: dict[str, Any], number: str, sha: str, user: User | None, rationale: str
) -> CodebookVersion:
    """Add a codebook version and make it the current one (flushed; codes are the caller's)."""
    previous = current_codebook()
    if previous is not None:
        previous.is_current = False
    version = CodebookVersion(
        version=number,
        sha256=sha,
        content=content,
        rationale=rationale,
        is_current=True,
        previous_id=previous.id if previous else None,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    return version


def current_codebook() -> CodebookVersion | None:
    return db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))


def codes_by_key(version: CodebookVersion) -> dict[str, Code]:
    return {code.key: code for code in version.codes}
