"""Codebook revisions: researchers propose, admins apply (a new version, codings carried over)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import sqlalchemy as sa

from coding.codebook import PREFIXES, CodebookError
from survey_app.codings.codebook_versions import current_codebook, new_codebook_version
from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import Code, CodebookProposal, CodebookVersion, Coding, User, utcnow
from survey_app.models.coding import IMPORTED_FAMILY
from survey_app.workspace.model_versions import library_codebook

KINDS = ("add", "rename", "merge", "retire", "edit")
TEXT_FIELDS = ("label_fr", "label_en", "definition", "example")
LIST_FIELDS = ("include", "exclude", "keywords")
#: codings that follow their code into the new version (deleted and rejected ones stay put)
CARRIED_STATUSES = ("active", "accepted", "suggested")
KEY_RE = re.compile(r"^[A-Z]{3}\.[A-Z0-9_]{2,20}$")


class ProposalError(UserError):
    """A proposal that cannot be made or applied (French and English)."""


def code_entries(content: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return {code key: (family, entry)} of a version's content."""
    return {
        key: (family, entry)
        for family, fam in content["families"].items()
        for key, entry in fam["codes"].items()
    }


def _usable(entries: dict[str, tuple[str, dict[str, Any]]], key: str) -> dict[str, Any]:
    if key not in entries or entries[key][1].get("retired"):
        raise ProposalError(f"Code inconnu ou retiré : {key}.", f"Unknown or retired code: {key}.")
    return entries[key][1]


def _new_key(entries: dict[str, Any], key: str, family: str) -> None:
    if not KEY_RE.match(key or ""):
        raise ProposalError(
            "Clé de code invalide (forme GOV.NOUVEAU).", "Invalid code key (form GOV.NEWCODE)."
        )
    prefix = next(p for p, f in PREFIXES.items() if f == family)
    if not key.startswith(prefix + "."):
        raise ProposalError(
            f"Un code de la famille {family} commence par {prefix}.",
            f"A code of family {family} starts with {prefix}.",
        )
    if key in entries:
        raise ProposalError(f"Le code {key} existe déjà.", f"Code {key} already exists.")


def validate(kind: str, payload: dict[str, Any], version: CodebookVersion) -> None:
    """Refuse a proposal that does not fit the given codebook version."""
    entries = code_entries(version.content)
    if kind not in KINDS:
        raise ProposalError("Type de changement inconnu.", "Unknown kind of change.")
    if kind == "add":
        if payload.get("family") not in version.content["families"]:
            raise ProposalError("Famille inconnue.", "Unknown family.")
        _new_key(entries, payload.get("key", ""), payload["family"])
        if not payload.get("label_fr") or not payload.get("definition"):
            raise ProposalError(
                "Un nouveau code demande un libellé et une définition.",
                "A new code needs a label and a definition.",
            )
        return
    _usable(entries, payload.get("code", ""))
    if kind == "rename":
        _new_key(entries, payload.get("new_key", ""), entries[payload["code"]][0])
    elif kind == "merge":
        _usable(entries, payload.get("into", ""))
        if payload["into"] == payload["code"]:
            raise ProposalError(
                "Un code ne fusionne pas avec lui-même.", "A code cannot merge into itself."
            )
    elif kind == "edit" and not any(payload.get(f) for f in TEXT_FIELDS + LIST_FIELDS):
        raise ProposalError("Rien à modifier.", "Nothing to change.")


def propose(kind: str, payload: dict[str, Any], rationale: str, user: User) -> CodebookProposal:
    """Record a researcher's proposed change to the current codebook."""
    if not rationale.strip():
        raise ProposalError("Donnez une justification.", "Give a rationale.")
    version = current_codebook()
    if version is None:
        raise ProposalError("Aucun livre de codes chargé.", "No codebook is loaded.")
    validate(kind, payload, version)
    proposal = CodebookProposal(
        kind=kind, payload=payload, rationale=rationale.strip(), proposed_by_id=user.id
    )
    db.session.add(proposal)
    db.session.flush()
    record("codebook.propose", proposal, {"kind": kind, "payload": payload}, user=user)
    return proposal


def decline(proposal: CodebookProposal, user: User) -> None:
    _open(proposal)
    proposal.status, proposal.decided_by_id, proposal.decided_dt = "declined", user.id, utcnow()
    db.session.flush()
    record("codebook.decline", proposal, {"kind": proposal.kind}, user=user)


def _open(proposal: CodebookProposal) -> None:
    if proposal.status != "open":
        raise ProposalError(
            "Cette proposition est déjà traitée.", "This proposal is already decided."
        )


def _entry(payload: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    entry = (
        copy.deepcopy(base)
        if base
        else {
            "label": {"fr": "", "en": ""},
            "definition": "",
            "include": [],
            "exclude": [],
            "keywords": [],
            "example": "",
        }
    )
    if payload.get("label_fr"):
        entry["label"]["fr"] = payload["label_fr"]
    if payload.get("label_en") or not entry["label"]["en"]:
        entry["label"]["en"] = payload.get("label_en") or entry["label"]["fr"]
    for field in ("definition", "example"):
        if payload.get(field):
            entry[field] = payload[field]
    for field in LIST_FIELDS:
        if payload.get(field):
            entry[field] = list(payload[field])
    return entry


def revised_content(
    kind: str, payload: dict[str, Any], content: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the new content and {old key: new key} for codings that move to another code."""
    content = copy.deepcopy(content)
    entries = code_entries(content)
    moves: dict[str, str] = {}
    if kind == "add":
        content["families"][payload["family"]]["codes"][payload["key"]] = _entry(payload)
        return content, moves
    family, entry = entries[payload["code"]]
    codes = content["families"][family]["codes"]
    if kind == "edit":
        codes[payload["code"]] = _entry(payload, entry)
    elif kind == "retire":
        entry["retired"] = True
    elif kind in ("rename", "merge"):
        target = payload["new_key"] if kind == "rename" else payload["into"]
        if kind == "rename":
            # keep file order: the new key takes the old one's place
            renamed = {}
            for key, value in codes.items():
                if key == payload["code"]:
                    renamed[target] = _entry(payload, value)
                renamed[key] = value
            content["families"][family]["codes"] = codes = renamed
        entry.update(retired=True, replaced_by=target)
        moves[payload["code"]] = target
    return content, moves


def next_version_number(number: str) -> str:
    """Bump the minor part (1.0.0 -> 1.1.0), skipping numbers already taken."""
    parts = number.split(".")
    while True:
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            parts = [parts[0], str(int(parts[1]) + 1)] + ["0"] * (len(parts) - 2)
            candidate = ".".join(parts)
        else:
            candidate = number + ".1"
            parts = candidate.split(".")
        taken = db.session.scalar(
            sa.select(CodebookVersion.id).where(CodebookVersion.version == candidate)
        )
        if taken is None:
            return candidate
        number = candidate


def apply(proposal: CodebookProposal, user: User) -> CodebookVersion:
    """Apply a proposal: a new current version, its codes, and the live codings carried over."""
    _open(proposal)
    previous = current_codebook()
    validate(proposal.kind, proposal.payload, previous)
    content, moves = revised_content(proposal.kind, proposal.payload, previous.content)
    content["version"] = next_version_number(previous.version)
    sha = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    previous_codes = {c.key: c for c in previous.codes}
    version = new_codebook_version(content, content["version"], sha, user, proposal.rationale)
    try:
        library_codebook(version)
    except CodebookError as err:
        raise ProposalError(f"Livre de codes invalide : {err}", f"Invalid codebook: {err}") from err
    new_codes = _create_codes(version, content)
    moved = _carry_codings(previous_codes, new_codes, moves)
    proposal.status, proposal.decided_by_id, proposal.decided_dt = "applied", user.id, utcnow()
    proposal.result_version_id = version.id
    db.session.flush()
    record(
        "codebook.apply",
        version,
        {
            "proposal": proposal.id,
            "kind": proposal.kind,
            "payload": proposal.payload,
            "from": previous.version,
            "to": version.version,
            "rationale": proposal.rationale,
            "codings_carried": moved,
        },
        user=user,
    )
    return version


def _create_codes(version: CodebookVersion, content: dict[str, Any]) -> dict[str, Code]:
    codes = {}
    for key, (family, entry) in code_entries(content).items():
        code = Code(
            key=key,
            family=family,
            label_fr=entry["label"]["fr"],
            label_en=entry["label"].get("en") or entry["label"]["fr"],
            definition=str(entry.get("definition", "")).strip(),
            retired=bool(entry.get("retired")),
            replaced_by_key=entry.get("replaced_by"),
        )
        version.codes.append(code)
        codes[key] = code
    for key, entry in (content.get("imported") or {}).items():
        # codes brought by a REFI-QDA import live on, unchanged, in every later version
        code = Code(
            key=key,
            family=IMPORTED_FAMILY,
            label_fr=entry["label"]["fr"][:200],
            label_en=(entry["label"].get("en") or entry["label"]["fr"])[:200],
            definition=str(entry.get("definition") or "").strip(),
            parent_key=entry.get("parent"),
            color=entry.get("color"),
        )
        version.codes.append(code)
        codes[key] = code
    db.session.flush()
    return codes


def _carry_codings(previous: dict[str, Code], new: dict[str, Code], moves: dict[str, str]) -> int:
    moved = 0
    for key, old in previous.items():
        target = new.get(moves.get(key, key))
        if target is None:
            continue
        result = db.session.execute(
            sa.update(Coding)
            .where(Coding.code_id == old.id, Coding.status.in_(CARRIED_STATUSES))
            .values(code_id=target.id, version=Coding.version + 1)
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount or 0
    db.session.expire_all()
    return moved
