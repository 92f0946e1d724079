"""A researcher exports XLSX from the exports page, follows the progress and downloads it."""

from __future__ import annotations

import openpyxl
import pytest
from integration.test_exports_support import seed_project

from survey_app.codings.codebook_versions import load_codebook_file
from survey_app.core.job_queue import run_job
from survey_app.demo.loader import instruments_dir
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(sqlite_app):
    with sqlite_app.app_context():
        for name in ("sme_manager.yaml", "relay_actor.yaml"):
            ops.load_instrument_file(instruments_dir() / name)
        load_codebook_file(instruments_dir() / "codebook.yaml")
        db.session.commit()
    return seed_project(sqlite_app)


def log_in(page, live_server: str, username: str) -> None:
    page.goto(live_server + "/login")
    page.fill("#username", username)
    page.fill("#password", "correct horse")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server + "/")


def test_researcher_exports_xlsx_with_progress(
    sqlite_app, seeded, live_server, page, tmp_path, monkeypatch
):
    queued: list[int] = []
    # Hold the job back instead of running it inside the request, so the page has to poll.
    monkeypatch.setitem(sqlite_app.extensions, "huey_run_job", queued.append)
    log_in(page, live_server, "camille")
    page.click("nav >> text=Exports")
    page.select_option("#fmt", "xlsx")
    page.check("input[name=tables][value=cases]")
    page.check("input[name=tables][value=codings]")
    page.click("#export-form button[type=submit]")
    page.wait_for_url("**/exports/jobs/*")
    assert page.evaluate("document.getElementById('export-progress').value") == 0
    assert not page.locator("#export-downloads a").count()
    assert len(queued) == 1
    with sqlite_app.app_context():
        run_job(queued[0])
    link = page.locator("#export-downloads a")
    link.wait_for()
    assert page.evaluate("document.getElementById('export-progress').value") == 1
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheets = openpyxl.load_workbook(target, read_only=True).sheetnames
    assert {"cases", "codings", "dictionary"} <= set(sheets)


def test_admin_imports_a_refi_project_and_reads_what_it_did(
    sqlite_app, seeded, live_server, page, tmp_path, monkeypatch
):
    from integration.test_exports_cli import foreign_project

    queued: list[int] = []
    monkeypatch.setitem(sqlite_app.extensions, "huey_run_job", queued.append)
    log_in(page, live_server, "root")
    page.goto(live_server + "/exports/")
    page.click("text=Importer un fichier REFI-QDA")
    notes = tmp_path / "notes.txt"
    notes.write_text("pas un projet")
    page.set_input_files("#file", str(notes))
    page.click("#refi-import-form button[type=submit]")
    assert "Choisissez un projet REFI-QDA (.qdpx) ou un livre de codes (.qdc)." in page.inner_text(
        "main"
    )
    assert not queued
    page.set_input_files("#file", str(foreign_project(tmp_path / "autre outil.qdpx", "DYN.CLUB")))
    page.check("#create_interviews")
    page.click("#refi-import-form button[type=submit]")
    page.wait_for_url("**/exports/import/*")
    assert "Import en cours…" in page.inner_text("main")
    assert len(queued) == 1
    with sqlite_app.app_context():
        run_job(queued[0])
    report = page.locator("#import-report")
    report.wait_for(timeout=15000)  # the page refreshes itself every 2 s while the job runs
    text = report.inner_text()
    assert "Codages ajoutés : 1 ; déjà présents : 0" in text
    assert "codeurs inconnus : ana" in text
    assert "autre_outil.qdpx" in page.inner_text("h1")
