"""Chromium: undo (Ctrl+Z, the toast after a delete, a stale undo), coding from a search hit."""

from __future__ import annotations

from browser.test_workspace_browser import (
    SHORT,
    codings,
    drag_select,
    login,
    setup_case,
    turn_start,
)

from survey_app.extensions import db
from survey_app.models import Coding

CHIPS = "document.querySelectorAll('.ws-chip.ws-mine').length"


def code_phrase(page, app, version_id: int, needle: str, code: str) -> None:
    start = SHORT.index(needle)
    drag_select(page, turn_start(app, version_id, start), start, start + len(needle))
    page.wait_for_selector("#ws-picker:not([hidden])")
    page.fill("#ws-search", code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f".ws-chip.ws-mine:has-text('{code}')")


def test_ctrl_z_undoes_create_edit_and_delete_and_the_toast_undoes_a_delete(
    sqlite_app, live_server, page
):
    version_id = setup_case(sqlite_app, SHORT)
    login(page, live_server)
    page.goto(f"{live_server}/coding/transcripts/{version_id}")
    page.wait_for_selector("#ws-transcript[data-ready='1']")

    # create, then Ctrl+Z: the coding goes (deleted, kept for the audit trail)
    code_phrase(page, sqlite_app, version_id, "C'est la Région qui fixe le cap", "GOV.PILOT")
    [made] = codings(sqlite_app, version_id)
    page.click("h1")
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{CHIPS} === 0")
    assert codings(sqlite_app, version_id, id=made.id)[0].status == "deleted"
    assert page.inner_text("#ws-toast .ws-toast-text") == "Annulé"

    # edit the intensity, then Ctrl+Z: the value before comes back
    code_phrase(page, sqlite_app, version_id, "On se voit tous les mois", "DYN.FREQ")
    freq = codings(sqlite_app, version_id, status="active")[0]
    page.click(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.select_option("#ws-intensity", "2")
    page.click("#ws-apply")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('DYN.FREQ i2')")
    page.click("h1")
    page.keyboard.press("Control+z")
    page.wait_for_selector(".ws-chip.ws-mine:text-is('DYN.FREQ')")
    assert codings(sqlite_app, version_id, id=freq.id)[0].intensity is None

    # delete asks nothing; the toast offers "Annuler", which brings the coding back
    page.click(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.click("#ws-delete")
    page.wait_for_function(f"{CHIPS} === 0")
    toast = page.locator("#ws-toast")
    assert toast.is_visible() and "DYN.FREQ" in toast.inner_text()
    toast.get_by_role("button", name="Annuler").click()
    page.wait_for_function(f"{CHIPS} === 1")
    assert codings(sqlite_app, version_id, id=freq.id)[0].status == "active"

    # the toast's "Annuler" undoes the delete it announced, even after another coding
    page.click(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.click("#ws-delete")
    page.wait_for_function(f"{CHIPS} === 0")
    code_phrase(page, sqlite_app, version_id, "tout le monde s'aligne", "GOV.COORD")
    toast.get_by_role("button", name="Annuler").click()
    page.wait_for_function(f"{CHIPS} === 2")
    assert codings(sqlite_app, version_id, id=freq.id)[0].status == "active"
    assert [c.status for c in codings(sqlite_app, version_id) if c.id != freq.id][-1] == "active"

    # a stale undo is refused clearly: someone changed the coding since this page saw it
    page.click(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.select_option("#ws-intensity", "3")
    page.click("#ws-apply")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('DYN.FREQ i3')")
    with sqlite_app.app_context():
        row = db.session.get(Coding, freq.id)
        row.memo = "changé dans un autre onglet"
        db.session.commit()
    page.click("h1")
    page.keyboard.press("Control+z")
    page.wait_for_selector("#ws-toast:not([hidden]) .ws-toast-text:has-text('modifié entre-temps')")
    assert codings(sqlite_app, version_id, id=freq.id)[0].intensity == 3


def test_ctrl_z_in_the_memo_box_is_the_text_box_own_undo(sqlite_app, live_server, page):
    version_id = setup_case(sqlite_app, SHORT)
    login(page, live_server)
    page.goto(f"{live_server}/coding/transcripts/{version_id}")
    page.wait_for_selector("#ws-transcript[data-ready='1']")
    page.click("h1")
    page.keyboard.press("Control+z")
    page.wait_for_selector("#ws-toast .ws-toast-text:has-text('Rien à annuler')")
    code_phrase(page, sqlite_app, version_id, "On se voit tous les mois", "DYN.FREQ")
    page.click(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.fill("#ws-memo", "proche")
    page.focus("#ws-memo")
    page.keyboard.press("Control+z")
    assert page.locator(".ws-chip.ws-mine").count() == 1
    assert codings(sqlite_app, version_id)[0].status == "active"


def test_a_search_hit_opens_the_transcript_with_the_words_ready_to_code(
    sqlite_app, live_server, page
):
    version_id = setup_case(sqlite_app, SHORT)
    login(page, live_server)
    page.goto(f"{live_server}/coding/transcripts/{version_id}")
    page.fill(".ws-find input[name=q]", "conseillere")
    page.keyboard.press("Enter")
    page.wait_for_selector(".fts-hit mark")
    assert page.inner_text(".fts-hit mark") == "conseillère"
    page.click(".fts-hit a.fts-open")
    page.wait_for_selector("#ws-picker:not([hidden])")
    assert page.inner_text("#ws-excerpt") == "conseillère"
    page.fill("#ws-search", "GOV.PROX")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('GOV.PROX')")
    [made] = codings(sqlite_app, version_id)
    assert SHORT[made.start : made.end] == "conseillère"
