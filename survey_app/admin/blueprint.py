from flask import Blueprint

from survey_app.admin import views

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_url_rule("/users", view_func=views.users)
bp.add_url_rule("/audit", view_func=views.audit)
