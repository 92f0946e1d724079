"""Pages work under the Content-Security-Policy: no inline script or style is blocked."""

import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.extensions import db
from survey_app.models import Interview, TranscriptVersion


def _login(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "milieu-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def test_pages_run_their_scripts_under_the_policy(sqlite_app, live_server, browser):
    assert sqlite_app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    with sqlite_app.app_context():
        draft = db.session.scalar(sa.select(Interview.id).where(Interview.status == "draft"))
        version = db.session.scalar(sa.select(TranscriptVersion.id))
    context = browser.new_context(locale="fr-FR")  # the policy enforced, as for users
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    base = live_server
    _login(page, base, "admin")
    response = page.goto(f"{base}/interviews/{draft}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto(f"{base}/coding/transcripts/{version}")
    page.wait_for_selector("mark.ws-hl", state="attached")  # drawn by workspace.js
    page.goto(f"{base}/coding/models")
    page.goto(f"{base}/coding/matrix")
    context.close()
    assert blocked == []
