"""Territory profile pages: start a computation, follow it, read the result."""

from __future__ import annotations

import re

from flask import abort, jsonify, redirect, render_template, send_from_directory, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from analysis.texts import territory_label
from survey_app.auth.decorators import researcher_required
from survey_app.core import labels
from survey_app.core.job_queue import job_or_404, job_status, recent_jobs, start_job
from survey_app.profiles import operations as ops
from survey_app.profiles.forms import LEVEL_LABELS, ProfileForm

#: the steps a profile job reports (profiles.operations.profile_job), as the page says them
PROGRESS_LABELS = {
    "registry": _l("reading the business register"),
    "interviews": _l("reading the interviews"),
    "bootstrap": _l("computing the intervals"),
    "charts and report": _l("drawing the charts and the report"),
}

#: what write_charts names its files (analysis.plots.safe_name codes): no folder, no dot first
CHART_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(svg|png)")


@researcher_required
def index():
    form = ProfileForm()
    if form.validate_on_submit():
        job = start_job(
            "profile", {"level": form.level.data, "n_boot": form.n_boot.data}, current_user
        )
        return redirect(url_for("profiles.show", job_id=job.id))
    page = render_template(
        "profiles/index.html",
        form=form,
        jobs=recent_jobs("profile"),
        demo_registry=ops.uses_demo_registry(),
        level_labels=LEVEL_LABELS,
    )
    return page, 400 if form.is_submitted() else 200  # a refused form, as on other pages


@researcher_required
def show(job_id: int):
    job = job_or_404(job_id, "profile")
    from analysis.plots import territory_stem  # matplotlib: only for a page that shows charts
    from analysis.scores import SATURATION_MIN, TRIANGULATION_GAP

    lang = labels.lang()
    result = ops.read_result(job) if job.status == "done" else None
    table, warnings = ops.shown_result(result, lang) if result is not None else (None, [])
    chart_lang = ops.output_lang(job.id, lang)
    return render_template(
        "profiles/show.html",
        job=job,
        result=result,
        table=table,
        warnings=warnings,
        territory_stem=territory_stem,
        territory_label=territory_label,
        level_labels=LEVEL_LABELS,
        chart_lang=chart_lang,
        charts_untranslated=result is not None and chart_lang != lang,
        progress_labels=PROGRESS_LABELS,
        gap_text=ops.score_text(TRIANGULATION_GAP, lang).rstrip("0"),
        saturation_min=SATURATION_MIN,
    )


@researcher_required
def status(job_id: int):
    return jsonify(job_status(job_or_404(job_id, "profile")))


@researcher_required
def chart(job_id: int, name: str, lang: str | None = None):
    job = job_or_404(job_id, "profile")
    if job.status != "done" or not CHART_NAME.fullmatch(name):
        abort(404)
    return send_from_directory(ops.chart_folder(job.id, lang or labels.lang()), name)


@researcher_required
def report(job_id: int, lang: str | None = None):
    job = job_or_404(job_id, "profile")
    if job.status != "done":
        abort(404)
    lang = lang or labels.lang()
    path = ops.report_file(job.id, lang)
    return send_from_directory(
        path.parent,
        path.name,
        as_attachment=True,
        download_name=f"milieu-profile-{job.id}-{ops.output_lang(job.id, lang)}.html",
    )
