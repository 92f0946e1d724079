from flask import Blueprint

from survey_app.core import views

bp = Blueprint("core", __name__)
bp.add_url_rule("/", view_func=views.index)
bp.add_url_rule("/language", view_func=views.set_language, methods=["POST"])
