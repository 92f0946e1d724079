from flask import Blueprint

from survey_app.api import token_pages, views

bp = Blueprint("api", __name__, url_prefix="/api")
bp.add_url_rule("/openapi.json", view_func=views.openapi)
bp.add_url_rule("/interviews", view_func=views.interviews)
bp.add_url_rule("/interviews/<int:interview_id>", view_func=views.interview)
bp.add_url_rule("/interviews/<int:interview_id>/answers", view_func=views.answers)
bp.add_url_rule("/interviews/<int:interview_id>/codings", view_func=views.codings)
bp.add_url_rule("/organisations", view_func=views.organisations)
bp.add_url_rule("/exports/<fmt>", view_func=views.export)
bp.add_url_rule("/exports/jobs/<int:job_id>", view_func=views.export_job)
bp.add_url_rule("/exports/jobs/<int:job_id>/files/<name>", view_func=views.export_job_file)

#: the pages where users manage their tokens: browser pages with sessions and CSRF, not the API
tokens_bp = Blueprint("tokens", __name__, url_prefix="/exports/tokens")
tokens_bp.add_url_rule("", view_func=token_pages.tokens, methods=["GET", "POST"])
tokens_bp.add_url_rule("/<int:token_id>/revoke", view_func=token_pages.revoke, methods=["POST"])
