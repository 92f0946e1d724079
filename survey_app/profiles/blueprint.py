from flask import Blueprint

from survey_app.profiles import views

bp = Blueprint("profiles", __name__, url_prefix="/profiles")
bp.add_url_rule("/", view_func=views.index, methods=["GET", "POST"])
bp.add_url_rule("/<int:job_id>", view_func=views.show)
bp.add_url_rule("/<int:job_id>/status", view_func=views.status)
bp.add_url_rule("/<int:job_id>/charts/<name>", view_func=views.chart)
bp.add_url_rule("/<int:job_id>/report.html", view_func=views.report)
