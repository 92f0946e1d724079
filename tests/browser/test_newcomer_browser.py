"""A newcomer's path in Chromium: skip logic, partial saves, locked interviews, long
transcripts, organisations, phones and the admin's header."""

import pytest
import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import Answer, Interview, Organisation, User


def login(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "milieu-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.fixture
def demo(sqlite_app):
    assert sqlite_app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    return sqlite_app


def draft_for_ines(app, answers):
    """A draft SME interview of ines with these answers; return its id."""
    with app.app_context():
        ines = db.session.scalar(sa.select(User).where(User.username == "ines"))
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name.like("Optique%")))
        version = next(v for v in ops.current_instrument_versions() if v.respondent_type == "sme")
        item = ops.create_interview(ines, version, org, None)
        ops.save_answers(item, answers, item.version, ines)
        db.session.commit()
        return item.id


def stored(app, interview_id):
    with app.app_context():
        rows = db.session.scalars(sa.select(Answer).where(Answer.interview_id == interview_id))
        return {r.question_key: r.value or r.missing for r in rows}


CONTEXT = {"consent_data": "yes", "consent_participation": "yes", "role": "dirigeant"}


def test_revealed_questions_come_up_empty(demo, live_server, page):
    item = draft_for_ines(demo, {**CONTEXT, "firm_size": "10_49", "exports": "no"})
    assert stored(demo, item)["export_share"] == "not_asked"
    login(page, live_server, "ines")
    page.goto(f"{live_server}/interviews/{item}/sections/contexte")
    assert page.locator("#q-export_share").is_hidden()
    page.check("input[name=exports][value=yes]")
    assert page.locator("#q-export_share").is_visible()
    assert page.input_value("input[name=export_share]") == ""
    assert page.input_value("input[name=export_countries]") == ""


def test_one_invalid_answer_does_not_block_the_others(demo, live_server, page):
    item = draft_for_ines(demo, CONTEXT)
    login(page, live_server, "ines")
    page.goto(f"{live_server}/interviews/{item}/sections/contexte")
    page.check("input[name=firm_size][value='50_249']")
    page.fill("input[name=year_founded]", "deux mille")
    page.wait_for_selector("#q-year_founded p.error")
    assert "Nombre entier attendu" in page.inner_text("#q-year_founded")
    page.wait_for_selector("#save-state[data-state=error]")
    assert stored(demo, item)["firm_size"] == "50_249"
    # the full save keeps the invalid answer in its box and marks the section
    page.click("button[name=next_section][value=contexte]")
    page.wait_for_selector("nav.sections a.incomplete")
    assert page.input_value("input[name=year_founded]") == "deux mille"
    assert "Cette section est incomplète" in page.inner_text(".flash-warning")


def test_submitted_interview_is_read_only_but_takes_a_transcript(demo, live_server, page):
    with demo.app_context():
        item = db.session.scalar(
            sa.select(Interview.id)
            .join(User, Interview.fieldworker_id == User.id)
            .where(User.username == "ines", Interview.status == "submitted")
        )
    login(page, live_server, "ines")
    page.goto(f"{live_server}/interviews/{item}/sections/contexte")
    notice = page.inner_text(".locked-notice")
    assert "lecture seule" in notice and "à corriger" in notice
    assert page.get_attribute("fieldset.questions", "disabled") is not None
    assert page.locator("input[name=year_founded]").is_disabled()
    assert page.locator("#interview-form button[type=submit]").count() == 0
    page.goto(f"{live_server}/interviews/{item}/transcript")
    page.fill("textarea[name=text]", "Enquêteur : Et ensuite ?\nInterviewé : Le Québec.")
    page.click("#transcript-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    with demo.app_context():
        assert db.session.get(Interview, item).status == "submitted"


def test_transcript_over_the_limit_is_refused_before_posting(demo, live_server, page):
    demo.config["TRANSCRIPT_MAX_BYTES"] = 2_000
    item = draft_for_ines(demo, CONTEXT)
    login(page, live_server, "ines")
    url = f"{live_server}/interviews/{item}/transcript"
    page.goto(url)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    text = "Enquêteur : Parlez-moi de vos débuts à l’export.\n" * 60
    page.fill("textarea[name=text]", text)
    page.click("#transcript-form button[type=submit]")
    page.wait_for_selector("#transcript-size-error:not([hidden])")
    assert "Trop long" in page.inner_text("#transcript-size-error")
    assert posts == [] and page.url == url
    assert page.input_value("textarea[name=text]") == text


def test_commune_is_searched_and_never_chosen_by_default(demo, live_server, page):
    login(page, live_server, "ines")
    page.goto(live_server + "/organisations/new")
    assert page.input_value("#territory_id") == ""
    page.fill("#commune-search", "montpel")
    chosen = page.eval_on_selector("#territory_id", "s => s.selectedOptions[0].textContent")
    assert chosen.startswith("Montpellier")
    page.fill("#commune-search", "zzzz")
    assert page.input_value("#territory_id") == ""


@pytest.mark.parametrize(
    "path", ["/interviews", "/interviews/1", "/interviews/1/sections/contexte"]
)
def test_fieldworker_pages_fit_a_phone(demo, live_server, browser, path):
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, live_server, "ines")
    page.goto(live_server + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    header = page.locator("header.topbar").bounding_box()["height"]
    context.close()
    assert width <= 390
    assert header < 844 / 8


def test_admin_header_holds_on_one_line_at_1366(demo, live_server, browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    login(page, live_server, "admin")
    boxes = page.eval_on_selector_all(
        "header.topbar .main-nav > a, header.topbar .main-nav > details > summary",
        "els => els.map(e => e.getBoundingClientRect().top)",
    )
    page.click("header .main-nav details.menu summary")
    assert page.locator("text=Journal d’audit").is_visible()
    context.close()
    assert len(boxes) == 8 and max(boxes) - min(boxes) < 5
