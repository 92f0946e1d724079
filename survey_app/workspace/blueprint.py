from flask import Blueprint

from survey_app.workspace import api, views

bp = Blueprint("workspace", __name__, url_prefix="/coding")
bp.add_url_rule("/", view_func=views.home)
bp.add_url_rule("/transcripts/<int:version_id>", view_func=views.transcript)
bp.add_url_rule("/codebook", view_func=views.codebook)
bp.add_url_rule("/codebook/proposals", view_func=views.propose, methods=["POST"])
bp.add_url_rule(
    "/codebook/proposals/<int:proposal_id>/apply", view_func=views.apply_proposal, methods=["POST"]
)
bp.add_url_rule(
    "/codebook/proposals/<int:proposal_id>/decline",
    view_func=views.decline_proposal,
    methods=["POST"],
)
bp.add_url_rule("/models", view_func=views.models)
bp.add_url_rule("/models/retrain", view_func=views.retrain, methods=["POST"])
bp.add_url_rule("/models/<int:model_id>/activate", view_func=views.activate_model, methods=["POST"])
bp.add_url_rule("/next", view_func=views.next_segment, methods=["GET", "POST"])
bp.add_url_rule("/matrix", view_func=views.matrix)
bp.add_url_rule("/matrix.csv", view_func=views.matrix_csv)
bp.add_url_rule("/saturation", view_func=views.saturation)
bp.add_url_rule("/retrieval", view_func=views.retrieval)
bp.add_url_rule(
    "/retrieval.<any(csv, xlsx):fmt>", view_func=views.retrieval_export, endpoint="retrieval_export"
)

# JSON
bp.add_url_rule(
    "/api/transcripts/<int:version_id>/codings", view_func=api.codings, endpoint="api_codings"
)
bp.add_url_rule(
    "/api/transcripts/<int:version_id>/codings",
    view_func=api.create,
    endpoint="api_create",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/codings/<int:coding_id>/update",
    view_func=api.update,
    endpoint="api_update",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/codings/<int:coding_id>/delete",
    view_func=api.delete,
    endpoint="api_delete",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/codings/<int:coding_id>/restore",
    view_func=api.restore,
    endpoint="api_restore",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/transcripts/<int:version_id>/suggestions",
    view_func=api.suggestions,
    endpoint="api_suggestions",
)
bp.add_url_rule(
    "/api/transcripts/<int:version_id>/suggest",
    view_func=api.suggest,
    endpoint="api_suggest",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/suggestions/<int:suggestion_id>/accept",
    view_func=api.accept,
    endpoint="api_accept",
    methods=["POST"],
)
bp.add_url_rule(
    "/api/suggestions/<int:suggestion_id>/reject",
    view_func=api.reject,
    endpoint="api_reject",
    methods=["POST"],
)
bp.add_url_rule("/api/jobs/<int:job_id>", view_func=api.job, endpoint="api_job")
