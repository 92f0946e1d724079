from flask import Blueprint

bp = Blueprint("workspace", __name__, url_prefix="/coding")
