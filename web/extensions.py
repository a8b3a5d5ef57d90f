"""Flask extensions, created unbound here and bound to the app in create_app."""

from flask import Flask, current_app
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .errors import ErrorSchema
from .models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
smorest_api = Api()
compress = Compress()  # bound in web.assets.install, with the hashed static URLs
# Document the error body errors_handlers actually sends, not flask-smorest's default one.
smorest_api.ERROR_SCHEMA = ErrorSchema


def app_object() -> Flask:
    """The app behind ``current_app``, for what outlives the request (threads, queued jobs)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    return app
