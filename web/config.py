"""Configuration: defaults, then environment variables, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Environment variables read at start-up, and the config key each one sets.
ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "REDIS_URL": "REDIS_URL",
    "JIUYE_DEFAULT_LOCALE": "BABEL_DEFAULT_LOCALE",
    "JIUYE_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "JIUYE_PLAN_EXECUTION": "PLAN_EXECUTION",
}

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "zh",
    "LANGUAGES": ("zh", "en"),
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "REDIS_URL": None,
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Secure cookies need HTTPS; set JIUYE_SECURE_COOKIES=1 behind TLS (the local demo is plain HTTP).
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "LOGIN_LOCKOUT_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "API_TOKEN_LIFETIME_S": 12 * 3600,
    "API_PAGE_SIZE_MAX": 200,
    # Privacy (services.disclosure): "already registered" answers a user gets per hour, and how
    # often an employer may move one posting in any 24 hours.
    "EXISTENCE_REFUSALS_PER_HOUR": 20,
    "POSTING_MOVES_PER_DAY": 3,
    # flask-smorest / OpenAPI
    "API_TITLE": "jiuye",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # Matching thresholds (DESIGN §2); the matcher's Config reads these.
    "PLAN_EXECUTION": None,  # inline | thread | rq; None = rq with REDIS_URL, else thread
    "MATCH_DEFAULT_MAX_COMMUTE_KM": 10.0,
    "MATCH_MAX_PICKUP_KM": 60.0,
    # Workshop recognition (DESIGN §2): poor laborers working needed to be recognised.
    "WORKSHOP_RECOGNITION_MIN_POOR": 5,
}


def load_secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, generating and keeping one on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Write with 0600 so that only the service's user can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def build_config(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, the environment and explicit overrides into one config dict."""
    config = dict(DEFAULTS)
    config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'jiuye.sqlite'}"
    for env_name, key in ENVIRONMENT_KEYS.items():
        value = os.environ.get(env_name)
        if value:
            config[key] = value
    if isinstance(config.get("SESSION_COOKIE_SECURE"), str):
        config["SESSION_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"].lower() in ("1", "true", "yes")
    if overrides:
        config.update(overrides)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = load_secret_key(instance_path)
    # Rate-limit counters live in Redis when there is one, so that every worker shares them.
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        # Plain postgresql:// would pick psycopg2, which jiuye does not depend on.
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    return config
