"""A fieldworker completes an SME interview in Chromium; a researcher then sees it."""

import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.extensions import db
from survey_app.models import Answer, Interview, TranscriptVersion


def login(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "milieu-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def test_fieldworker_enters_interview_with_skip_logic_and_network_loss(
    sqlite_app, live_server, browser
):
    assert sqlite_app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server

    login(page, base, "ines")
    page.goto(base + "/interviews/new")
    sme_value = page.eval_on_selector_all(
        "#instrument_version_id option",
        "opts => opts.find(o => /PME|SME/i.test(o.textContent)).value",
    )
    page.select_option("#instrument_version_id", sme_value)
    org_value = page.eval_on_selector_all(
        "#organisation_id option", "opts => opts.find(o => o.textContent.includes('Optique')).value"
    )
    page.select_option("#organisation_id", org_value)
    page.fill("#interview_date", "2026-11-20")
    page.click("main button[type=submit]")
    page.wait_for_url("**/sections/consentement")

    page.check("input[name=consent_data]")
    page.check("input[name=consent_participation]")
    page.click("button[name=next_section][value=contexte]")
    page.wait_for_url("**/sections/contexte")

    # skip logic: the export share is asked only of firms that export
    page.check("input[name=role][value=dirigeant]")
    page.check("input[name=firm_size][value='10_49']")
    page.check("input[name=exports][value=no]")
    assert page.locator("#q-export_share").is_hidden()
    page.check("input[name=exports][value=yes]")
    assert page.locator("#q-export_share").is_visible()
    page.fill("input[name=export_share]", "35")
    page.wait_for_selector("#save-state[data-state=saved]")
    page.click("button[name=next_section][value=parcours]")
    page.wait_for_url("**/sections/parcours")

    # the network drops while typing: nothing is lost, the save goes through when it is back
    context.set_offline(True)
    page.fill("textarea[name=a1]", "Nous avons commencé par la Belgique, grâce à un salon.")
    page.wait_for_selector("#save-state[data-state=offline]")
    context.set_offline(False)
    page.wait_for_selector("#save-state[data-state=saved]", timeout=40_000)
    page.reload()
    assert page.input_value("textarea[name=a1]").startswith("Nous avons commencé")

    interview_url = page.url.split("/sections/")[0]
    page.goto(interview_url + "/transcript")
    page.fill(
        "textarea[name=text]",
        "Enquêteur : Comment exportez-vous ?\nInterviewé : Par un agent à Milan.",
    )
    page.click("main form button[type=submit]")
    page.wait_for_selector(".turns")
    assert page.locator(".turn .speaker").all_inner_texts() == ["Enquêteur", "Interviewé"]

    with sqlite_app.app_context():
        item = db.session.scalar(sa.select(Interview).order_by(Interview.id.desc()))
        answers = {
            a.question_key: a.value
            for a in db.session.scalars(sa.select(Answer).where(Answer.interview_id == item.id))
        }
        assert answers["export_share"] == "35"
        assert answers["a1"].startswith("Nous avons commencé")
        assert db.session.scalar(sa.select(sa.func.count(TranscriptVersion.id))) >= 1
        interview_id = item.id
    context.close()

    # the researcher sees it
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    login(page, base, "camille")
    page.goto(base + "/interviews")
    assert page.locator(f"a[href='/interviews/{interview_id}']").count() >= 1
    page.goto(f"{base}/interviews/{interview_id}")
    assert "Nous avons commencé par la Belgique" in page.content()
    context.close()
