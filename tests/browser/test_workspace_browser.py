"""A researcher codes in Chromium: mouse and keyboard selection, suggestions, a long transcript."""

from __future__ import annotations

import time
from datetime import date

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import Coding, Organisation

SHORT = (
    "Enquêteur : Comment travaillez-vous avec la CCI ?\n"
    "Interviewé : On se voit tous les mois, la conseillère est à dix minutes.\n"
    "Enquêteur : Et la Région ?\n"
    "Interviewé : C'est la Région qui fixe le cap, tout le monde s'aligne.\n"
)
#: generous bounds: the point is "does not freeze", the figures are printed for the report
MAX_LOAD_S = 10.0
MAX_SAVE_S = 10.0
COUNT = "document.querySelectorAll('.ws-chip-suggestion').length"


def long_transcript(chars: int = 300_000) -> str:
    """A French transcript of about `chars` characters in ~200-character speaker turns."""
    answers = [
        "On se voit tous les mois avec la CCI, la conseillère connaît bien nos marchés.",
        "Trois structures m'ont proposé la même mission au Maroc, c'est un vrai millefeuille.",
        "On passe par un agent commercial à Milan et un distributeur en Belgique depuis 2019.",
        "Le chèque export, c'est un mois de paperasse, et le dossier revient toujours incomplet.",
    ]
    lines, n = [], 0
    while n < chars:
        i = len(lines) // 2
        q = f"Enquêteur : Question {i} : comment cela s'est-il passé pour vous cette année-là ?"
        a = f"Interviewé : {answers[i % 4]} Réponse numéro {i}, avec quelques détails en plus."
        lines += [q, a]
        n += len(q) + len(a) + 2
    return "\n".join(lines)[:chars].rsplit("\n", 1)[0]


def setup_case(app, text: str) -> int:
    """Users, codebook, an interview and its transcript; return the transcript version id."""
    import spacy

    from survey_app.auth.operations import create_user
    from survey_app.codings.codebook_versions import load_codebook_file
    from survey_app.demo.loader import instruments_dir
    from survey_app.fieldwork import operations as ops
    from survey_app.models import InstrumentVersion, User

    with app.app_context():
        for name, role in (("ines", "fieldworker"), ("ana", "researcher")):
            if not db.session.scalar(sa.select(User).where(User.username == name)):
                create_user(name, role, "correct horse")
        load_codebook_file(instruments_dir() / "codebook.yaml")
        version, _ = ops.load_instrument_file(instruments_dir() / "sme_manager.yaml")
        fieldworker = db.session.scalar(sa.select(User).where(User.username == "ines"))
        org = ops.create_organisation(None, kind="sme", name="Optique Lez")
        interview = ops.create_interview(
            fieldworker,
            db.session.get(InstrumentVersion, version.id),
            db.session.get(Organisation, org.id),
            date(2026, 11, 2),
        )
        # sentences are not what this test is about: a rule-based splitter keeps setup fast
        nlp = spacy.blank("fr")
        nlp.add_pipe("sentencizer")
        saved = ops.save_transcript(interview, text, fieldworker, nlp=nlp)
        db.session.commit()
        return saved.id


def login(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", "ana")
    page.fill("#password", "correct horse")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def drag_select(page, block_start: int, needle_from: int, needle_to: int) -> None:
    """Select [needle_from, needle_to) of the turn at block_start with a real mouse drag."""
    box = page.evaluate(
        """([blockStart, a, b]) => {
          const el = document.querySelector(`.ws-text[data-start="${blockStart}"]`);
          el.scrollIntoView({block: "center"});
          const node = el.firstChild;
          const r = document.createRange();
          r.setStart(node, a); r.setEnd(node, a + 1);
          const first = r.getBoundingClientRect();
          r.setStart(node, b - 1); r.setEnd(node, b);
          const last = r.getBoundingClientRect();
          return {x1: first.left + 1, y1: first.top + first.height / 2,
                  x2: last.right - 1, y2: last.top + last.height / 2};
        }""",
        [block_start, needle_from - block_start, needle_to - block_start],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, box["y2"], steps=3)
    page.mouse.move(box["x2"], box["y2"], steps=3)
    page.mouse.up()


def turn_start(app, version_id: int, offset: int) -> int:
    from survey_app.models import Segment

    with app.app_context():
        return db.session.scalar(
            sa.select(Segment.start).where(
                Segment.transcript_version_id == version_id,
                Segment.kind == "turn",
                Segment.start <= offset,
                Segment.end > offset,
            )
        )


def codings(app, version_id: int, **where) -> list[Coding]:
    with app.app_context():
        stmt = sa.select(Coding).where(Coding.transcript_version_id == version_id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Coding, key) == value)
        rows = list(db.session.scalars(stmt.order_by(Coding.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_researcher_codes_with_mouse_and_keyboard_and_decides_suggestions(
    sqlite_app, live_server, page
):
    version_id = setup_case(sqlite_app, SHORT)
    login(page, live_server)
    page.goto(f"{live_server}/coding/transcripts/{version_id}")
    page.wait_for_selector("#ws-transcript[data-ready='1']")

    # "Next segment to code" ranks the uncoded turns in a job (the first run loads the
    # model), then opens the transcript on the chosen turn
    page.click("#ws-next", no_wait_after=True)
    page.wait_for_url("**/coding/transcripts/*focus=*", timeout=60_000)
    page.wait_for_selector(".ws-text.ws-focus:focus")

    # mouse: drag over a phrase, type to filter the codes, Enter applies
    needle = "C'est la Région qui fixe le cap"
    start = SHORT.index(needle)
    drag_select(page, turn_start(sqlite_app, version_id, start), start, start + len(needle))
    page.wait_for_selector("#ws-picker:not([hidden])")
    assert needle in page.inner_text("#ws-excerpt")
    page.fill("#ws-search", "pilot")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('GOV.PILOT')")
    assert page.inner_text("mark.ws-hl") == needle
    [saved] = codings(sqlite_app, version_id, source="human")
    assert (saved.start, saved.end) == (start, start + len(needle))

    # edit from the margin: set an intensity, the chip shows it
    page.click(".ws-chip.ws-mine:has-text('GOV.PILOT')")
    page.wait_for_selector("#ws-picker:not([hidden]) #ws-delete:not([hidden])")
    page.select_option("#ws-intensity", "2")
    page.click("#ws-apply")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('GOV.PILOT i2')")
    [saved] = codings(sqlite_app, version_id, source="human")
    assert saved.intensity == 2 and saved.version == 2

    # keyboard: from the first turn j moves on, Ctrl+Shift+Right extends by words, c codes it
    page.focus(".ws-text >> nth=0")
    page.keyboard.press("j")
    for _ in range(3):
        page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("c")
    page.wait_for_selector("#ws-picker:not([hidden])")
    page.keyboard.type("DYN.FREQ")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    freq = codings(sqlite_app, version_id, source="human")[-1]
    assert SHORT[freq.start : freq.end].startswith("Interviewé : On")

    # suggestions: run the model, then accept one (a) and reject the next (r)
    page.click("#ws-suggest")
    page.wait_for_function(f"{COUNT} >= 2", timeout=30_000)
    pending = len(codings(sqlite_app, version_id, status="suggested"))
    assert page.evaluate(COUNT) == pending
    page.click("h1")
    page.keyboard.press("n")
    page.wait_for_selector(".ws-chip-suggestion.current")
    page.keyboard.press("a")
    page.wait_for_function(f"{COUNT} === {pending - 1}")
    page.wait_for_selector(".ws-chip-suggestion.current")
    page.keyboard.press("r")
    page.wait_for_function(f"{COUNT} === {pending - 2}")
    accepted = codings(sqlite_app, version_id, status="accepted")
    rejected = codings(sqlite_app, version_id, status="rejected")
    assert len(accepted) == 1 and len(rejected) == 1
    [human] = codings(sqlite_app, version_id, suggestion_id=accepted[0].id)
    assert human.status == "active" and human.source == "human"

    # after a reload, what was saved is still there
    page.reload()
    page.wait_for_selector("#ws-transcript[data-ready='1']")
    assert page.locator(".ws-chip.ws-mine").count() == 3

    # Delete on a focused code of one's own deletes the coding (kept, marked deleted)
    page.focus(".ws-chip.ws-mine:has-text('DYN.FREQ')")
    page.keyboard.press("Delete")
    page.wait_for_function("document.querySelectorAll('.ws-chip.ws-mine').length === 2")
    assert codings(sqlite_app, version_id, id=freq.id)[0].status == "deleted"

    # the codebook form shows the fields of the chosen change only
    page.goto(f"{live_server}/coding/codebook")
    page.select_option("#kind", "retire")
    assert page.locator("#into").is_hidden() and page.locator("#code").is_visible()
    page.select_option("#kind", "merge")
    assert page.locator("#into").is_visible() and page.locator("#definition").is_hidden()


def test_300k_character_transcript_opens_and_gets_a_coding(sqlite_app, live_server, page):
    text = long_transcript()
    assert len(text) >= 299_000
    version_id = setup_case(sqlite_app, text)
    login(page, live_server)

    began = time.perf_counter()
    page.goto(f"{live_server}/coding/transcripts/{version_id}")
    page.wait_for_selector("#ws-transcript[data-ready='1']")
    load_s = time.perf_counter() - began

    needle = "un vrai millefeuille"
    start = text.index(needle, len(text) * 2 // 3)
    drag_select(page, turn_start(sqlite_app, version_id, start), start, start + len(needle))
    began = time.perf_counter()
    page.wait_for_selector("#ws-picker:not([hidden])")
    page.fill("#ws-search", "GOV.FRAG")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ws-chip.ws-mine:has-text('GOV.FRAG')")
    save_s = time.perf_counter() - began

    [saved] = codings(sqlite_app, version_id, source="human")
    assert text[saved.start : saved.end] == needle
    print(
        f"\n300k transcript ({len(text)} chars): page load {load_s:.2f} s, "
        f"selection to saved highlight {save_s:.2f} s"
    )
    assert load_s < MAX_LOAD_S and save_s < MAX_SAVE_S
