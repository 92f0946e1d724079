"""Flask extensions, created unbound and bound in the application factory."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from survey_app.models.base import Base

# models subclass Base directly; the extension shares its metadata
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
