from flask import Blueprint

from survey_app.transcripts import views

bp = Blueprint("transcripts", __name__, url_prefix="/transcripts")
bp.add_url_rule("/search", view_func=views.search)
