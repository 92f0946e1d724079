"""The read-only JSON API: bearer tokens, permissions as on the pages, exports, OpenAPI."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from integration.test_exports_support import PERSON, seed_project

from survey_app.api.tokens import create_token, revoke_token
from survey_app.extensions import db
from survey_app.models import (
    ApiToken,
    CodebookVersion,
    Coding,
    CodingRound,
    TranscriptVersion,
    User,
)


@pytest.fixture
def project(app, instruments, codebook):
    app.config["PSEUDONYM_TERMS"] = {PERSON: "PERS"}
    return seed_project(app)


@pytest.fixture
def token(app):
    """Factory: token(username) -> a live token's text."""

    def factory(username: str) -> str:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            _row, text = create_token(user, "tests")
            db.session.commit()
            return text

    return factory


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def get(client, url, text=None):
    response = client.get(url, headers=bearer(text) if text else {})
    response.get_data()
    response.close()
    return response


def revoked_token(app, username: str) -> str:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        row, text = create_token(user, "old")
        revoke_token(row, user)
        db.session.commit()
        return text


ENDPOINTS = [
    "/api/interviews",
    "/api/interviews/{first}",
    "/api/interviews/{first}/answers",
    "/api/interviews/{first}/codings",
    "/api/organisations",
    "/api/exports/csv",
]


@pytest.mark.parametrize(
    "who", ["anonymous", "unknown", "revoked", "fieldworker", "researcher", "admin"]
)
def test_permission_matrix(app, client, project, token, who) -> None:
    text = {
        "anonymous": lambda: None,
        "unknown": lambda: "mil_not-a-token",
        "revoked": lambda: revoked_token(app, "camille"),
        "fieldworker": lambda: token("ines"),
        "researcher": lambda: token("camille"),
        "admin": lambda: token("root"),
    }[who]()
    for endpoint in ENDPOINTS:
        response = get(client, endpoint.format(**project), text)
        if who in ("anonymous", "unknown", "revoked"):
            assert response.status_code == 401, endpoint
            assert response.get_json()["error"]["status"] == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        elif who == "fieldworker" and endpoint.startswith("/api/exports"):
            assert response.status_code == 403 and response.is_json
        else:
            assert response.status_code == 200, (endpoint, response.get_data(as_text=True))
    assert get(client, "/api/openapi.json", text).status_code == 200  # public


def test_fieldworker_token_sees_only_their_interviews(app, client, project, token) -> None:
    text = token("ines")
    listing = get(client, "/api/interviews", text).get_json()
    assert [i["id"] for i in listing["items"]] == [project["first"]]
    assert listing["total"] == 1
    assert get(client, f"/api/interviews/{project['second']}", text).status_code == 404
    assert get(client, f"/api/interviews/{project['second']}/answers", text).status_code == 404
    codings = get(client, f"/api/interviews/{project['first']}/codings", text).get_json()
    assert codings["codings"] == []  # coding is researchers' work
    answers = get(client, f"/api/interviews/{project['first']}/answers", text).get_json()
    assert {"question_key": "consent_data", "value": "yes", "missing": None} in answers["answers"]


def test_researcher_sees_every_interview_and_codings(app, client, project, token) -> None:
    text = token("camille")
    listing = get(client, "/api/interviews?per_page=1&page=2", text).get_json()
    assert listing["total"] == 2 and [i["id"] for i in listing["items"]] == [project["second"]]
    one = get(client, f"/api/interviews/{project['first']}", text).get_json()
    assert one["fieldworker"] == "ines" and one["transcript"]["version_id"] == project["version"]
    codings = get(client, f"/api/interviews/{project['first']}/codings", text).get_json()
    assert sorted((c["code"], c["coder"]) for c in codings["codings"]) == [
        ("GOV.PILOT", "camille"),
        ("GOV.PILOT", "louis"),
        ("GOV.PROX", "camille"),
    ]
    first = codings["codings"][0]
    with app.app_context():
        version = db.session.get(TranscriptVersion, project["version"])
        assert first["text"] == version.text[first["start"] : first["end"]]
    orgs = get(client, "/api/organisations", text).get_json()
    assert orgs["total"] == 2
    assert get(client, "/api/interviews?per_page=501", text).status_code == 400
    assert get(client, "/api/interviews?status=lost", text).status_code == 400
    assert get(client, "/api/interviews/99999", text).get_json()["error"]["status"] == 404


def test_blind_round_hides_the_other_coder(app, client, project, token) -> None:
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        book = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        blind = CodingRound(
            name="blind",
            codebook_version_id=book.id,
            created_by_id=users["root"].id,
            coders=[users["camille"], users["louis"]],
            transcript_versions=[db.session.get(TranscriptVersion, project["version"])],
        )
        db.session.add(blind)
        db.session.commit()
    url = f"/api/interviews/{project['first']}/codings"
    camille = get(client, url, token("camille")).get_json()["codings"]
    assert {c["coder"] for c in camille} == {"camille"} and len(camille) == 2
    louis = get(client, url, token("louis")).get_json()["codings"]
    assert {c["coder"] for c in louis} == {"louis"}
    admin = get(client, url, token("root")).get_json()["codings"]
    assert len(admin) == 3
    export = get(client, "/api/exports/csv?tables=codings", token("louis"))
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        coders = set(pd.read_csv(archive.open("codings.csv"))["coder"])
    assert coders == {"louis"}  # the export builder applies the same blind rule


def test_session_cookie_is_not_enough(app, client, auth, project) -> None:
    auth.login("camille")
    response = get(client, "/api/interviews")
    assert response.status_code == 401 and response.is_json


def test_last_used_is_recorded(app, client, project, token) -> None:
    text = token("camille")
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_dt)) is None
    assert get(client, "/api/organisations", text).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_dt)) is not None


def test_export_endpoint_streams_files(app, client, project, token) -> None:
    text = token("camille")
    xlsx = get(client, "/api/exports/xlsx?tables=cases,codings", text)
    assert xlsx.status_code == 200
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert xlsx.headers["Content-Disposition"] == 'attachment; filename="milieu-export.xlsx"'
    assert xlsx.data[:2] == b"PK"
    sav = get(client, "/api/exports/sav", text)
    assert sav.status_code == 200 and sav.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(sav.data)) as archive:
        names = archive.namelist()
        assert "milieu-export.sav" in names and "milieu-export_dictionary.csv" in names
        raw = archive.read("milieu-export.sav")
    path = app.instance_path + "/api-test.sav"
    with open(path, "wb") as handle:
        handle.write(raw)
    frame, _meta = pyreadstat.read_sav(path)
    assert len(frame) == 2
    started = get(client, "/api/exports/qdpx?pseudonymise=1", text)
    assert started.status_code == 202  # pseudonymising is a job: follow it to the file
    job = get(client, started.headers["Location"], text).get_json()
    pseudonymised = get(client, job["downloads"][0]["url"], text)
    assert pseudonymised.status_code == 200
    with zipfile.ZipFile(io.BytesIO(pseudonymised.data)) as archive:
        blob = b"".join(archive.read(n) for n in archive.namelist())
    assert PERSON.encode() not in blob and b"PERS_" in blob


def test_export_endpoint_refuses_bad_requests(app, client, project, token) -> None:
    text = token("camille")
    assert get(client, "/api/exports/pdf", text).status_code == 404
    bad = get(client, "/api/exports/sav?tables=cases", text)
    assert bad.status_code == 400 and "tables" in bad.get_json()["error"]["message"]
    app.config["API_EXPORT_MAX_INTERVIEWS"] = 1
    too_big = get(client, "/api/exports/csv", text)
    assert too_big.status_code == 413 and "milieu export" in too_big.get_json()["error"]["message"]


def _described(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_describes_every_route(app, client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.1")
    assert {"openapi", "info", "paths", "components"} <= set(document)
    assert document["info"]["title"] and document["info"]["version"]
    routes = {_described(r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes == set(document["paths"])
    for path, item in document["paths"].items():
        operation = item["get"]
        assert operation["responses"]["200"]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([a-z_]+)}", path)), path


def test_errors_under_api_are_json_even_without_a_route(app, client, project, token) -> None:
    text = token("camille")
    for url, method, status in (
        ("/api/no-such-thing", "get", 404),
        ("/api", "get", 404),
        ("/api/interviews", "post", 405),
    ):
        response = getattr(client, method)(url, headers=bearer(text))
        assert response.status_code == status, url
        assert response.mimetype == "application/json", url
        assert response.get_json()["error"]["status"] == status
    # pages outside /api keep their HTML error page
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_memos_on_codings_reach_the_api_and_the_codings_sheet(app, client, project, token) -> None:
    memo = "Relance : la CCI a rappelé deux fois."
    with app.app_context():
        coding = db.session.scalar(sa.select(Coding).order_by(Coding.id))
        coding.memo = memo
        coding_id = coding.id
        db.session.commit()
    text = token("camille")
    codings = get(client, f"/api/interviews/{project['first']}/codings", text).get_json()
    memos = {c["id"]: c["memo"] for c in codings["codings"]}
    assert memos[coding_id] == memo and sorted(memos.values()).count("") == len(memos) - 1
    spec = get(client, "/api/openapi.json", text).get_json()
    assert "memo" in spec["components"]["schemas"]["Coding"]["properties"]
    xlsx = get(client, "/api/exports/xlsx?tables=codings", text)
    sheet = pd.read_excel(io.BytesIO(xlsx.data), sheet_name="codings", keep_default_na=False)
    assert dict(zip(sheet["coding_id"], sheet["memo"], strict=True))[coding_id] == memo


def test_pseudonymised_export_is_a_job_not_a_long_request(app, client, project, token) -> None:
    text = token("camille")
    started = get(client, "/api/exports/xlsx?pseudonymise=1", text)
    assert started.status_code == 202
    body = started.get_json()
    assert started.headers["Location"] == body["url"] == f"/api/exports/jobs/{body['job']}"
    status = get(client, body["url"], text)  # the job ran at once (immediate mode in tests)
    assert status.status_code == 200
    data = status.get_json()
    assert data["status"] == "done", data
    download = data["downloads"][0]["url"]
    response = get(client, download, text)
    assert response.status_code == 200 and response.data[:2] == b"PK"
    # another user's token does not reach the job; nor does a session cookie alone
    assert get(client, body["url"], token("louis")).status_code == 404
    assert client.get(body["url"]).status_code == 401
