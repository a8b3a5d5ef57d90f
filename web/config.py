"""Configuration: defaults, then environment variables, then the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: Environment variables read at start-up, and the config key each one sets.
ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "REDIS_URL": "REDIS_URL",
    "JIUYE_DEFAULT_LOCALE": "BABEL_DEFAULT_LOCALE",
    "JIUYE_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "JIUYE_PLAN_EXECUTION": "PLAN_EXECUTION",
    "JIUYE_PLAN_QUEUE": "PLAN_QUEUE",
    "JIUYE_PLAN_LEASE_S": "PLAN_LEASE_S",
    "JIUYE_PLAN_PART_ARCS": "PLAN_PART_ARCS",
    "JIUYE_TIMEZONE": "TIMEZONE",
    "JIUYE_SQLITE_BUSY_TIMEOUT_S": "SQLITE_BUSY_TIMEOUT_S",
    "JIUYE_SMS_BACKEND": "SMS_BACKEND",
}

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # How long a SQLite writer waits for another's write lock before answering 503 (web.sqlite).
    "SQLITE_BUSY_TIMEOUT_S": 30.0,
    "BABEL_DEFAULT_LOCALE": "zh",
    "LANGUAGES": ("zh", "en"),
    # The deployment's time zone (web.clock): every date a person sees or a rule uses is its date.
    "TIMEZONE": "Asia/Shanghai",
    "REDIS_URL": None,
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    # Static files (web.assets): templates link them under content-hashed names cached for a year;
    # the plain /static/<file> path is cached this long. Responses are compressed as the browser asks.
    "SEND_FILE_MAX_AGE_DEFAULT": 300,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    "COMPRESS_MIN_SIZE": 500,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Secure cookies need HTTPS; set JIUYE_SECURE_COOKIES=1 behind TLS (the local demo is plain HTTP).
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    # Password checks allowed per (username, address), and per username from anywhere (slower);
    # counted in Redis with REDIS_URL, else in the database (web.services.login_guard).
    "LOGIN_LOCKOUT_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "LOGIN_USER_MAX_FAILURES": 50,
    "LOGIN_USER_WINDOW_MINUTES": 60,
    "LOGIN_COUNTER_PREFIX": "jiuye:login:",
    "PASSWORD_MIN_STRENGTH": 3,  # zxcvbn's score, 0 (guessed at once) to 4
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
    # A running plan's lease (web.jobs.plans): renewed every third of it; lapsed = the runner is gone.
    "PLAN_LEASE_S": 60,
    # The RQ queue plans run on (workers and web processes sharing one Redis must agree on it).
    "PLAN_QUEUE": "jiuye-plans",
    # Independent components of a plan's jobs stage are packed into parts of about this many arcs;
    # on RQ workers each part of an optimal plan is a job of its own (web.jobs.components).
    "PLAN_PART_ARCS": 2_000_000,
    "MATCH_DEFAULT_MAX_COMMUTE_KM": 10.0,
    "MATCH_MAX_PICKUP_KM": 60.0,
    # Congestion caps (issue 14, part 1; matcher.congestion): a posting carries at most this many live
    # offers (referrals and unanswered offers) per open slot (capacity less accepted and working).
    "REFERRAL_FACTOR": 3,
    # Among matches whose scores differ by less than this, the less-solicited posting ranks first.
    "CONGESTION_TOLERANCE": 0.02,
    # A match's score in words on cards (很合适 from GOOD up, 合适 from FAIR up, else 勉强).
    "MATCH_SCORE_GOOD": 0.75,
    "MATCH_SCORE_FAIR": 0.5,
    # The cadre home counts offers made and answered in this many days.
    "HOME_RECENT_DAYS": 7,
    # Unanswered offers a laborer may hold at once (DESIGN §2: offers spread, not hoarded).
    "MAX_LIVE_OFFERS": 1,
    # Workshop recognition (DESIGN §2): poor laborers working needed to be recognised.
    "WORKSHOP_RECOGNITION_MIN_POOR": 5,
    # Year-on-year change is shown only when the figure a year before is at least this (else '—' and why).
    "YOY_MIN_BASE": 20,
    # Bounded input (issue 10, part 7): lists a record holds, and what an uploaded sheet may unpack to.
    "MAX_LIST_ITEMS": 20,  # skills, job types
    "MAX_PICKUP_POINTS": 50,
    "IMPORT_MAX_UNPACKED_BYTES": 20 * 1024 * 1024,
    "IMPORT_MAX_CELL_CHARS": 1000,
    "IMPORT_PREVIEW_MAX_AGE_HOURS": 24,  # then `jiuye imports clean` deletes a waiting upload
    "JSON_MAX_DEPTH": 32,
    # Working age (issue 11, part 1): younger is refused; older only with the cadre's confirmation
    # that the person still wants and is able to work (Laborer.over_age_confirmed).
    "MIN_LABOR_AGE": 16,
    "MAX_LABOR_AGE": 75,
    # After the match (issue 13): an offer lapses when unanswered this many days ("no answer in time");
    # the employer is reminded half-way (web.services.offers.lapse_unanswered, run by `jiuye tick`).
    "OFFER_ANSWER_DAYS": 7,
    # A household's request for a welfare post is overdue when not answered (a post assigned or a refusal
    # with a reason) this many days after the day it was made (MGNREGA's 15 days; web.services.post_requests).
    "POST_REQUEST_DAYS": 15,
    # The watch on households slipping back (issue 13, part 5; web.services.watch): a poor household
    # without work this many days is flagged; a flag gives the cadre this many days for the visit.
    "WATCH_DAYS": 30,
    "FOLLOW_UP_DAYS": 15,
    # Verifications on record (issue 13, part 7; web.services.verifications) hold this many months.
    "VERIFICATION_VALID_MONTHS": 6,
    # Texts to laborers (web.services.texts): "file" (instance/texts-outbox.jsonl), "console", or a
    # provider's adapter "package.module:ClassName" built with SMS_OPTIONS.
    "SMS_BACKEND": "file",
    "SMS_OUTBOX_PATH": None,
    "SMS_OPTIONS": {},
    # Welfare posts month by month (issue 13, part 3; web.services.welfare). A holder is expected to work
    # the month's working days: WELFARE_WORK_DAYS when set (e.g. 22), else Monday to Friday of the calendar
    # month (no holiday calendar); a holding that begins or ends in the month is expected the working days
    # it covers. The stipend due is the post's monthly stipend × paid days ÷ the month's working days,
    # rounded half up to the cent; paid days = days present + up to WELFARE_PAID_ABSENCE_DAYS of leave
    # (never more than the days expected); below WELFARE_MIN_PRESENT_SHARE of the days expected present,
    # nothing is due.
    "WELFARE_WORK_DAYS": None,
    "WELFARE_PAID_ABSENCE_DAYS": 0,
    "WELFARE_MIN_PRESENT_SHARE": 0.0,
    # Posts whose term ends within this many days are listed for renewal or end (and offices told once).
    "WELFARE_TERM_NOTICE_DAYS": 30,
    # A renewal extends a term by this many months unless the office gives the new end day.
    "WELFARE_TERM_MONTHS": 12,
    # Transport subsidy (issue 13, part 4; web.services.transport): yuan per destination band for a county
    # whose office has not set its own table, and the most a Shanxi county (code 14...) may pay one laborer
    # a year (the band default is cut to it; the rates page refuses more).
    "TRANSPORT_SUBSIDY_YUAN": {"outside_far": 1500, "outside_near": 600, "inside_province": 300},
    "TRANSPORT_SUBSIDY_CAP_YUAN": {"14": 800},
    # The daily clocks in `jiuye plan worker` (RQ's scheduler): local time of day they run at.
    "TICK_AT": "00:10",
    # Fairness (issue 14, part 4): a group's rate (placed, households moved, 90-day retention) below
    # this share of the overall rate is highlighted on plan pages, the dashboard and the exports.
    "FAIRNESS_MIN_RATIO": 0.8,
    # What-if (issue 14, part 5): a plan is simulated in the request, so only plans of at most this
    # many seeking laborers (a county's) are; larger regions are simulated per county.
    "WHATIF_MAX_LABORERS": 30_000,
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
    # Flask-Babel formats times in the same zone the rules use; an unknown zone stops the start.
    config["BABEL_DEFAULT_TIMEZONE"] = str(ZoneInfo(config["TIMEZONE"]))
    config["SQLITE_BUSY_TIMEOUT_S"] = float(config["SQLITE_BUSY_TIMEOUT_S"])
    config["PLAN_LEASE_S"] = float(config["PLAN_LEASE_S"])
    config["PLAN_PART_ARCS"] = int(config["PLAN_PART_ARCS"])
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = load_secret_key(instance_path)
    # Rate-limit counters live in Redis when there is one, so that every worker shares them.
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        # Plain postgresql:// would pick psycopg2, which jiuye does not depend on.
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL's JIT compiles a plan's or a report's big reads for longer than they then run
        # (2.2 of the 2.6 s that reading a province's seeking laborers took): off on jiuye's connections.
        options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"options": "-c jit=off", **options.get("connect_args", {})}
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return config


def setting(name: str) -> Any:
    """A configuration value: the running app's, else the default (services called outside a request)."""
    from flask import current_app, has_app_context

    return current_app.config.get(name, DEFAULTS[name]) if has_app_context() else DEFAULTS[name]
