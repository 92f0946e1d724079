from flask import Blueprint

from survey_app.rounds import views

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
bp.add_url_rule("/", view_func=views.rounds)
bp.add_url_rule("/new", view_func=views.new_round, methods=["GET", "POST"])
bp.add_url_rule("/<int:round_id>", view_func=views.round_page)
bp.add_url_rule("/<int:round_id>/done", view_func=views.done, methods=["POST"])
bp.add_url_rule("/<int:round_id>/undo", view_func=views.undo, methods=["POST"])
bp.add_url_rule("/<int:round_id>/agreement", view_func=views.agreement_page)
bp.add_url_rule("/<int:round_id>/agreement.json", view_func=views.agreement_json)
bp.add_url_rule("/<int:round_id>/reconcile", view_func=views.reconcile)
bp.add_url_rule("/<int:round_id>/decisions", view_func=views.decision, methods=["POST"])
bp.add_url_rule("/<int:round_id>/accept-agreements", view_func=views.accept, methods=["POST"])
bp.add_url_rule("/<int:round_id>/reconciled", view_func=views.reconciled, methods=["POST"])
