"""Undo in the workspace goes through the coding API with versions, and is audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from integration.test_workspace import TEXT, Api, open_round, span_of

from survey_app.extensions import db
from survey_app.models import AuditEvent, Coding


@pytest.fixture
def setup(app, create_user, codebook, transcript):
    """Researchers ana and bob, fieldworker ines's transcript; return (version id, codes)."""
    for name, role in (("ines", "fieldworker"), ("ana", "researcher"), ("bob", "researcher")):
        create_user(name, role)
    return transcript("ines", TEXT), codebook


@pytest.fixture
def api(client, auth):
    return Api(client, auth, "ana")


def events(app) -> list[tuple[str, bool]]:
    """(action, marked as an undo) of each coding event, in order."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("coding.%")).order_by(AuditEvent.id)
        )
        return [(e.action, bool((e.payload or {}).get("undo"))) for e in rows]


def status_of(app, coding_id: int) -> tuple[str, int | None, int]:
    with app.app_context():
        row = db.session.get(Coding, coding_id)
        return row.status, row.intensity, row.version


def test_undo_create_edit_and_delete_through_the_api(app, setup, api):
    version_id, codes = setup
    api.login("ana")
    span = span_of(TEXT, "On se voit tous les mois")
    made = api.create(version_id, *span, codes["DYN.FREQ"]).get_json()["coding"]
    url = f"/coding/api/codings/{made['id']}"

    # undo an edit: the values before it, sent with the version after it
    edited = api.post(f"{url}/update", {"version": 1, "intensity": 2}).get_json()["coding"]
    undone = api.post(
        f"{url}/update", {"version": edited["version"], "intensity": None, "undo": True}
    )
    assert undone.status_code == 200 and status_of(app, made["id"]) == ("active", None, 3)

    # undo a create: delete, refused when the version is not the one the page saw
    stale = api.post(f"{url}/delete", {"version": 1, "undo": True})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale"
    assert status_of(app, made["id"])[0] == "active"
    deleted = api.post(f"{url}/delete", {"version": 3, "undo": True})
    assert deleted.status_code == 200 and deleted.get_json()["version"] == 4

    # undo a delete: restore, with the version the delete answered
    assert api.post(f"{url}/restore", {"version": 3}).status_code == 409
    restored = api.post(f"{url}/restore", {"version": 4})
    assert restored.status_code == 200 and restored.get_json()["coding"]["status"] == "active"
    assert api.codings(version_id)[0]["id"] == made["id"]
    # a live coding cannot be "restored" again
    assert api.post(f"{url}/restore", {"version": 5}).status_code == 404

    assert events(app) == [
        ("coding.create", False),
        ("coding.update", False),
        ("coding.update", True),
        ("coding.delete", True),
        ("coding.restore", True),
    ]


def test_restore_respects_ownership_and_the_blind_rule(app, setup, api):
    version_id, codes = setup
    api.login("bob")
    bobs = api.create(version_id, *span_of(TEXT, "Et la Région"), codes["GOV.PILOT"]).get_json()
    bob_id = bobs["coding"]["id"]
    assert api.post(f"/coding/api/codings/{bob_id}/delete").status_code == 200
    api.login("ana")
    # not hers: refused, and nothing changes
    assert api.post(f"/coding/api/codings/{bob_id}/restore", {"version": 2}).status_code == 403
    open_round(app, version_id, ["ana", "bob"])
    # in a blind round, bob's codings on this transcript do not exist for her
    assert api.post(f"/coding/api/codings/{bob_id}/restore", {"version": 2}).status_code == 404
    assert status_of(app, bob_id)[0] == "deleted"
    api.login("bob")
    assert api.post(f"/coding/api/codings/{bob_id}/restore", {"version": 2}).status_code == 200
    assert status_of(app, bob_id)[0] == "active"
