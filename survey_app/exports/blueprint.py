from flask import Blueprint

from survey_app.exports import views

bp = Blueprint("exports", __name__, url_prefix="/exports")
bp.add_url_rule("/", view_func=views.index, methods=["GET", "POST"])
bp.add_url_rule("/jobs/<int:job_id>", view_func=views.job)
bp.add_url_rule("/jobs/<int:job_id>.json", view_func=views.job_json)
bp.add_url_rule("/jobs/<int:job_id>/files/<name>", view_func=views.download)
bp.add_url_rule("/pseudonyms", view_func=views.pseudonyms)
bp.add_url_rule("/import", view_func=views.refi_import, methods=["GET", "POST"])
bp.add_url_rule("/import/<int:job_id>", view_func=views.refi_import_job)
