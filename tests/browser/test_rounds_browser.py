"""Two demo researchers run a blind round in Chromium: done, agreement bands, one reconciliation."""

import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.codings.operations import create_coding
from survey_app.extensions import db
from survey_app.models import Code, Coding, CodingRound, ReconciliationDecision, User


def login(browser, base, username):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "milieu-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def code_turns(app, round_id, plan):
    """Code as the workspace would: plan = {username: [(turn index, code key), ...]}."""
    with app.app_context():
        rnd = db.session.get(CodingRound, round_id)
        tv = rnd.transcript_versions[0]
        turns = [s for s in tv.segments if s.kind == "turn"]
        for username, cells in plan.items():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            for index, key in cells:
                turn = turns[index]
                code = db.session.scalar(
                    sa.select(Code).where(
                        Code.key == key, Code.codebook_version_id == rnd.codebook_version_id
                    )
                )
                create_coding(tv, turn.start, turn.end, code, user)
        db.session.commit()


def mark_done(page, base, round_id):
    page.goto(f"{base}/rounds/{round_id}")
    page.check("#confirm")
    page.click("#mark-done")
    page.wait_for_selector(".flash-success")


def test_blind_round_done_agreement_and_reconciliation(sqlite_app, live_server, browser):
    assert sqlite_app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    sqlite_app.config["ROUNDS_BOOTSTRAP"] = 200
    base = live_server
    camille_ctx, camille = login(browser, base, "camille")
    louis_ctx, louis = login(browser, base, "louis")

    camille.goto(base + "/rounds/new")
    camille.fill("#name", "Double codage pilote")
    camille.locator("input[name=transcripts]").first.check()
    louis_id = camille.eval_on_selector_all(
        "input[name=coders]",
        "els => els.find(e => e.parentElement.textContent.includes('louis')).value",
    )
    camille.check(f"input[name=coders][value='{louis_id}']")
    camille.click("#new-round button[type=submit]")
    camille.wait_for_url("**/rounds/*")
    round_id = int(camille.url.rstrip("/").rsplit("/", 1)[1])

    code_turns(
        sqlite_app,
        round_id,
        {
            "camille": [(0, "GOV.PROX"), (1, "GOV.PROX"), (1, "DYN.FREQ"), (2, "DYN.FREQ")],
            "louis": [(0, "GOV.PROX"), (1, "DYN.FREQ"), (2, "DYN.FREQ")],
        },
    )
    # blind: during the round louis sees his own progress, never camille's codes
    louis.goto(f"{base}/rounds/{round_id}")
    assert "GOV.PROX" not in louis.content()
    assert louis.locator("td.progress").first.inner_text() == "3"

    mark_done(camille, base, round_id)
    mark_done(louis, base, round_id)
    with sqlite_app.app_context():
        assert db.session.get(CodingRound, round_id).status == "closed"

    louis.goto(f"{base}/rounds/{round_id}/agreement")
    # computed as a background job: the page shows progress, then reloads itself with figures
    louis.wait_for_selector("table.agreement")
    dyn = louis.locator("table[data-kind=codes] tr[data-code='DYN.FREQ'] .band")
    assert "band-reliable" in dyn.get_attribute("class")
    colour = dyn.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    gov = louis.locator("table[data-kind=codes] tr[data-code='GOV.PROX'] .band")
    assert "band-revise" in gov.get_attribute("class")
    assert louis.locator("ul.legend .band").count() == 3

    louis.goto(f"{base}/rounds/{round_id}/reconcile")
    card = louis.locator("article.disagreement").first
    assert "camille" in card.inner_text()
    card.locator("input[value=keep]").check()
    card.locator("textarea").fill("La proximité est explicite dans ce tour.")
    card.locator("button[type=submit]").click()
    louis.wait_for_selector("article.disagreement.decided")
    with sqlite_app.app_context():
        decision = db.session.scalar(sa.select(ReconciliationDecision))
        assert decision.decision == "keep" and decision.rationale.startswith("La proximité")
        consensus = db.session.get(Coding, decision.consensus_coding_id)
        assert consensus.source == "consensus" and consensus.coder.username == "louis"
    camille_ctx.close()
    louis_ctx.close()
