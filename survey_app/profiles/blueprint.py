from flask import Blueprint

from survey_app.config import LANGUAGES
from survey_app.profiles import views

LANG = f"<any({', '.join(LANGUAGES)}):lang>"

bp = Blueprint("profiles", __name__, url_prefix="/profiles")
bp.add_url_rule("/", view_func=views.index, methods=["GET", "POST"])
bp.add_url_rule("/<int:job_id>", view_func=views.show)
bp.add_url_rule("/<int:job_id>/status", view_func=views.status)
# charts and report in the language asked for, or without one in the viewer's language
bp.add_url_rule(f"/<int:job_id>/charts/{LANG}/<name>", view_func=views.chart)
bp.add_url_rule("/<int:job_id>/charts/<name>", view_func=views.chart)
bp.add_url_rule(f"/<int:job_id>/report.{LANG}.html", view_func=views.report)
bp.add_url_rule("/<int:job_id>/report.html", view_func=views.report)
