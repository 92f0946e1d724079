from flask import Blueprint

from survey_app.admin import views

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_url_rule("/users", view_func=views.users)
bp.add_url_rule("/audit", view_func=views.audit)
bp.add_url_rule("/users/new", view_func=views.new_user, methods=["GET", "POST"])
bp.add_url_rule("/users/<int:user_id>", view_func=views.edit_user, methods=["GET", "POST"])
bp.add_url_rule("/users/<int:user_id>/password", view_func=views.reset_password, methods=["POST"])
