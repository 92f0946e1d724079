"""Reconciliation in Chromium: after each decision the page comes back where the reader was."""

from __future__ import annotations

import sqlalchemy as sa
from browser.test_workspace_browser import long_transcript, setup_case

from survey_app.auth.operations import create_user
from survey_app.codings.operations import create_coding
from survey_app.extensions import db
from survey_app.models import (
    Code,
    CodebookVersion,
    CodingRound,
    ReconciliationDecision,
    Segment,
    TranscriptVersion,
    User,
)

CARD = "article.disagreement >> nth={}"


def closed_round_with_disagreements(app, version_id: int, turns: int) -> int:
    """ana and bob code `turns` answers with different codes, then the round closes."""
    with app.app_context():
        create_user("bob", "researcher", "correct horse")
        ana, bob = (
            db.session.scalar(sa.select(User).where(User.username == n)) for n in ("ana", "bob")
        )
        book = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        version = db.session.get(TranscriptVersion, version_id)
        rnd = CodingRound(
            name="double",
            codebook_version_id=book.id,
            created_by_id=ana.id,
            coders=[ana, bob],
            transcript_versions=[version],
        )
        db.session.add(rnd)
        db.session.flush()
        codes = {
            k: db.session.scalar(
                sa.select(Code).where(Code.key == k, Code.codebook_version_id == book.id)
            )
            for k in ("GOV.PROX", "DYN.FREQ")
        }
        segments = db.session.scalars(
            sa.select(Segment)
            .where(Segment.transcript_version_id == version_id, Segment.kind == "turn")
            .order_by(Segment.start)
        ).all()
        for turn in segments[1 : 2 * turns : 2]:
            create_coding(version, turn.start, turn.end, codes["GOV.PROX"], ana)
            create_coding(version, turn.start, turn.end, codes["DYN.FREQ"], bob)
        rnd.status = "closed"
        db.session.commit()
        return rnd.id


def test_a_decision_keeps_the_reading_position(sqlite_app, live_server, page):
    version_id = setup_case(sqlite_app, long_transcript(12_000))
    round_id = closed_round_with_disagreements(sqlite_app, version_id, 12)
    page.goto(live_server + "/login")
    page.fill("#username", "ana")
    page.fill("#password", "correct horse")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/rounds/{round_id}/reconcile")
    assert page.locator("article.disagreement").count() == 24

    # far down the page, decide one disagreement
    card = page.locator(CARD.format(14))
    card.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    top_before = card.evaluate("el => el.getBoundingClientRect().top")
    scrolled_before = page.evaluate("window.scrollY")
    assert scrolled_before > 1500
    card.locator("input[value=keep]").check()
    card.locator("textarea").fill("Proximité explicite.")
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(100)

    decided = page.locator(CARD.format(14))
    assert "decided" in decided.get_attribute("class")
    top_after = decided.evaluate("el => el.getBoundingClientRect().top")
    assert abs(top_after - top_before) <= 2, (top_before, top_after)
    with sqlite_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReconciliationDecision.id))) == 1

    # with "only those without a decision", the decided card leaves the list: the page stays
    # at the same height, where the next disagreements now are
    page.goto(f"{live_server}/rounds/{round_id}/reconcile?pending=1")
    card = page.locator(CARD.format(10))
    card.scroll_into_view_if_needed()
    height = page.evaluate("window.scrollY")
    card.locator("input[value=drop]").check()
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(100)
    assert abs(page.evaluate("window.scrollY") - height) <= 2
    assert page.locator("article.disagreement").count() == 22
