"""Model versions: the shipped default, trained ones, activation, loading (coding adapter)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from coding.codebook import Codebook, parse_codebook
from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import CodebookVersion, ModelVersion, User

if TYPE_CHECKING:  # coding.model pulls in spaCy and scikit-learn: load it only when used
    from coding.model import ThemeModel

DEFAULT_MODEL_NAME = "default"
_CACHE: dict[tuple[str, str], ThemeModel] = {}
_CACHE_LOCK = threading.Lock()


class ModelVersionError(UserError):
    """A model version that cannot be used (French and English)."""


def library_codebook(version: CodebookVersion) -> Codebook:
    """Build the coding library's Codebook from a stored version, without retired codes.

    Thin adapter: coding.codebook parses files; the database keeps the parsed content.
    """
    content = _without_retired(version.content)
    return parse_codebook(content, sha256=version.sha256)


def _without_retired(content: dict[str, Any]) -> dict[str, Any]:
    families = {}
    for name, fam in content["families"].items():
        codes = {k: c for k, c in fam["codes"].items() if not c.get("retired")}
        families[name] = {**fam, "codes": codes}
    return {**content, "families": families}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_metrics(meta: dict[str, Any]) -> dict[str, Any]:
    """The figures kept with a version: cross-validated metrics, the candidate model selection
    kept, the selection itself and the measured precision per code (for suggestions)."""
    metrics = dict(meta.get("cv_metrics") or {})
    for key in ("candidate", "selection", "precision"):
        if meta.get(key) is not None:
            metrics[key] = meta[key]
    return metrics


def active_model_version() -> ModelVersion | None:
    return db.session.scalar(sa.select(ModelVersion).where(ModelVersion.is_active))


def ensure_model_version() -> ModelVersion:
    """Return the active model version, registering the shipped default on first use."""
    active = active_model_version()
    if active is not None:
        return active
    if db.session.scalar(sa.select(ModelVersion.id).where(ModelVersion.name == DEFAULT_MODEL_NAME)):
        raise ModelVersionError(
            "Aucune version de modèle n’est active : activez-en une.",
            "No model version is active: activate one.",
        )
    return register_default_model()


def register_default_model() -> ModelVersion:
    """Register the model shipped in coding/models/default as the active version."""
    from coding.model import default_model_dir, read_meta

    directory = default_model_dir()
    meta = read_meta(directory)
    book = db.session.scalar(
        sa.select(CodebookVersion).where(CodebookVersion.version == meta["codebook_version"])
    )
    if book is None:
        number = meta["codebook_version"]
        raise ModelVersionError(
            f"Le modèle fourni attend le livre de codes {number}, qui n’est pas chargé.",
            f"The shipped model needs codebook version {number}, which is not loaded.",
        )
    version = ModelVersion(
        name=DEFAULT_MODEL_NAME,
        codebook_version_id=book.id,
        path=str(directory),
        sha256=file_sha256(directory / "model.skops"),
        level=meta.get("level", "code"),
        training_size=int(meta.get("training_size") or 0),
        metrics=model_metrics(meta),
        is_active=True,
    )
    db.session.add(version)
    db.session.flush()
    record("model.register_default", version, {"path": version.path, "sha256": version.sha256})
    return version


def load_theme_model(version: ModelVersion) -> tuple[ThemeModel, Codebook]:
    """Load (once per process) the model of a version with the codebook it was trained on."""
    from coding.model import load_model

    book = library_codebook(db.session.get(CodebookVersion, version.codebook_version_id))
    key = (version.path, version.sha256)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if file_sha256(Path(version.path) / "model.skops") != version.sha256:
                raise ModelVersionError(
                    "Le fichier du modèle a changé depuis son enregistrement.",
                    "The model file changed since it was registered.",
                )
            _CACHE[key] = load_model(version.path, book)
        return _CACHE[key], book


def activate(version: ModelVersion, user: User) -> None:
    """Make `version` the one used for suggestions (one active version at a time)."""
    db.session.execute(
        sa.update(ModelVersion).where(ModelVersion.id != version.id).values(is_active=False)
    )
    version.is_active = True
    db.session.flush()
    record("model.activate", version, {"name": version.name}, user=user)


def store_trained_model(
    model: ThemeModel, codebook_version: CodebookVersion, folder: Path, user: User | None
) -> ModelVersion:
    """Save a trained model under folder/<id>/ and register it as an inactive version."""
    from coding.model import save_model

    version = ModelVersion(
        name="",
        codebook_version_id=codebook_version.id,
        path="",
        sha256="",
        level=model.level,
        training_size=int(model.meta.get("training_size") or 0),
        metrics=model_metrics(model.meta),
        is_active=False,
        trained_by_id=getattr(user, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    target = folder / str(version.id)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{version.id}."))
    try:
        save_model(model, tmp)
        if target.exists():  # a leftover of a rolled-back attempt with the same id
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    version.name = f"v{version.id}"
    version.path = str(target)
    version.sha256 = file_sha256(target / "model.skops")
    db.session.flush()
    record(
        "model.train",
        version,
        {"training_size": version.training_size, "codebook": codebook_version.version},
        user=user,
    )
    return version
