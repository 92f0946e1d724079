"""Exports page (a job with progress and a download), API tokens page, pseudonymisation key."""

from __future__ import annotations

import hashlib
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from integration.test_exports_support import FIRM, PERSON, seed_project

from survey_app.extensions import db
from survey_app.models import ApiToken, Job

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def project(app, instruments, codebook):
    app.config["PSEUDONYM_TERMS"] = {PERSON: "PERS"}
    return seed_project(app)


def start_export(client, get_csrf, **fields):
    data = {
        "csrf_token": get_csrf("/exports/"),
        "fmt": "xlsx",
        "territory_level": "commune",
        **fields,
    }
    return client.post("/exports/", data=data)


def fetch(client, url):
    """GET a file download, read it and close it (send_file keeps the file open)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def job_id_of(response) -> int:
    return int(re.search(r"/exports/jobs/(\d+)$", response.headers["Location"]).group(1))


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
@pytest.mark.parametrize(
    ("role", "expected"), [(None, 302), ("fieldworker", 403), ("researcher", 200), ("admin", 200)]
)
@pytest.mark.parametrize("url", ["/exports/", "/exports/pseudonyms", "/exports/tokens"])
def test_page_permissions(app, client, auth, create_user, role, expected, url) -> None:
    if role:
        create_user("someone", role)
        auth.login("someone")
    status = client.get(url).status_code
    if url == "/exports/pseudonyms" and role == "researcher":
        expected = 403
    if url == "/exports/tokens" and role == "fieldworker":
        expected = 200  # every logged-in user manages their own tokens
    assert status == expected


def test_researcher_exports_xlsx_and_downloads_it(app, client, auth, get_csrf, project) -> None:
    auth.login("camille")
    response = start_export(client, get_csrf, tables=["cases", "codings"])
    assert response.status_code == 302
    job_id = job_id_of(response)
    page = client.get(f"/exports/jobs/{job_id}")
    assert page.status_code == 200 and b"<progress" in page.data
    status = client.get(f"/exports/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["progress"] == 1.0
    [download] = status["downloads"]
    assert download["name"].endswith(".xlsx")
    file = fetch(client, download["url"])
    assert file.status_code == 200
    assert file.mimetype == XLSX
    assert f"filename={download['name']}" in file.headers["Content-Disposition"]
    assert file.headers["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(file.data), read_only=True)
    assert {"cases", "codings", "dictionary"} <= set(book.sheetnames)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.kind == "export" and job.params["tables"] == ["cases", "codings"]
        assert app.instance_path and job.result["main"] == download["name"]


def test_downloads_belong_to_their_starter_and_admins(app, client, auth, get_csrf, project) -> None:
    auth.login("camille")
    job_id = job_id_of(start_export(client, get_csrf))
    url = client.get(f"/exports/jobs/{job_id}.json").get_json()["downloads"][0]["url"]
    auth.logout()
    auth.login("louis")
    for target in (url, f"/exports/jobs/{job_id}", f"/exports/jobs/{job_id}.json"):
        assert client.get(target).status_code == 404
    auth.logout()
    auth.login("ines")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("root")
    assert fetch(client, url).status_code == 200
    assert client.get(f"/exports/jobs/{job_id}/files/..%2Fsecret_key").status_code == 404
    auth.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_fieldworker_cannot_start_an_export(app, client, auth, get_csrf, project) -> None:
    auth.login("ines")
    csrf = get_csrf("/exports/tokens")
    response = client.post(
        "/exports/", data={"csrf_token": csrf, "fmt": "csv", "territory_level": "commune"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_export_form_refuses_bad_input(app, client, auth, get_csrf, project) -> None:
    auth.login("camille")
    assert client.post("/exports/", data={"fmt": "xlsx"}).status_code == 400  # no CSRF
    assert start_export(client, get_csrf, fmt="pdf").status_code == 400
    response = start_export(client, get_csrf, fmt="sav", tables=["cases"])
    assert response.status_code == 400
    assert "tables can be chosen only for" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_pseudonymised_export_from_the_page_and_the_key_page(
    app, client, auth, get_csrf, project
) -> None:
    auth.login("camille")
    job_id = job_id_of(
        start_export(
            client, get_csrf, pseudonymise="y", territory_level="departement", coarsen_roles="y"
        )
    )
    status = client.get(f"/exports/jobs/{job_id}.json").get_json()
    assert status["status"] == "done", status
    data = fetch(client, status["downloads"][0]["url"]).data
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = " ".join(
        str(c)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    )
    assert PERSON not in cells and FIRM not in cells and "FIRM_" in cells
    assert client.get("/exports/pseudonyms").status_code == 403
    auth.logout()
    auth.login("root")
    page = client.get("/exports/pseudonyms").get_data(as_text=True)
    assert PERSON in page and FIRM in page and "PERS_001" in page


def test_token_is_shown_once_and_stored_as_its_hash(
    app, client, auth, get_csrf, create_user
) -> None:
    create_user("ines", "fieldworker")
    auth.login("ines")
    response = client.post(
        "/exports/tokens", data={"csrf_token": get_csrf("/exports/tokens"), "name": "R scripts"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    again = client.get("/exports/tokens").get_data(as_text=True)
    assert token not in again and "R scripts" in again
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(row.__dict__)
    assert (
        client.get("/api/interviews", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_revoking_needs_csrf_and_ownership(app, client, auth, get_csrf, create_user) -> None:
    create_user("ines", "fieldworker")
    create_user("marc", "fieldworker")
    auth.login("ines")
    client.post("/exports/tokens", data={"csrf_token": get_csrf("/exports/tokens"), "name": "mine"})
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/exports/tokens/{token_id}/revoke").status_code == 400
    auth.logout()
    auth.login("marc")
    csrf = get_csrf("/exports/tokens")
    assert (
        client.post(f"/exports/tokens/{token_id}/revoke", data={"csrf_token": csrf}).status_code
        == 404
    )
    auth.logout()
    auth.login("ines")
    csrf = get_csrf("/exports/tokens")
    response = client.post(f"/exports/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_dt is not None


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_old_export_files_are_pruned(app, client, auth, get_csrf, project) -> None:
    import os
    import time

    auth.login("camille")
    first = job_id_of(start_export(client, get_csrf))
    url = client.get(f"/exports/jobs/{first}.json").get_json()["downloads"][0]["url"]
    folder = os.path.join(app.instance_path, "exports", str(first))
    ten_days_ago = time.time() - 10 * 86400
    os.utime(folder, (ten_days_ago, ten_days_ago))
    second = job_id_of(start_export(client, get_csrf))
    assert not os.path.exists(folder)
    assert client.get(url).status_code == 404
    assert os.path.isdir(os.path.join(app.instance_path, "exports", str(second)))
