from flask import Blueprint

from survey_app.fieldwork import views

bp = Blueprint("fieldwork", __name__)
bp.add_url_rule("/organisations", view_func=views.organisations)
bp.add_url_rule("/organisations/new", view_func=views.new_organisation, methods=["GET", "POST"])
bp.add_url_rule(
    "/organisations/<int:organisation_id>/edit",
    view_func=views.edit_organisation,
    methods=["GET", "POST"],
)
bp.add_url_rule("/interviews", view_func=views.interviews)
bp.add_url_rule("/interviews/new", view_func=views.new_interview, methods=["GET", "POST"])
bp.add_url_rule("/interviews/<int:interview_id>", view_func=views.interview)
bp.add_url_rule(
    "/interviews/<int:interview_id>/sections/<key>",
    view_func=views.section,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/interviews/<int:interview_id>/sections/<key>/autosave",
    view_func=views.autosave,
    methods=["POST"],
)
bp.add_url_rule("/interviews/<int:interview_id>/submit", view_func=views.submit, methods=["POST"])
bp.add_url_rule("/interviews/<int:interview_id>/review", view_func=views.review, methods=["POST"])
bp.add_url_rule(
    "/interviews/<int:interview_id>/transcript", view_func=views.transcript, methods=["GET", "POST"]
)
