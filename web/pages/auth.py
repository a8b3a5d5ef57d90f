"""Logging in and out of the pages; each role lands on its own home page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import unit_of_work
from ..extensions import db, limiter, login_manager
from ..models import User
from ..services.accounts import LockedOutError, audit, authenticate

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The logged-in user, from the id kept in the session cookie."""
    return db.session.get(User, int(user_id))


def lockout_settings() -> dict[str, int]:
    """Lock-out thresholds from the app's configuration."""
    from flask import current_app

    return {
        "max_failures": current_app.config["LOGIN_LOCKOUT_FAILURES"],
        "window_minutes": current_app.config["LOGIN_LOCKOUT_MINUTES"],
    }


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def home_for(user: User) -> str:
    """Where a user of this role starts."""
    endpoint = {"cadre": "cadre.home", "employer": "employer.home", "office": "office.home"}
    try:
        return url_for(endpoint[user.role.value])
    except Exception:  # the role's pages are not registered (yet): fall back to the landing page
        return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def login():
    """Username and password; a failed try is audited."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.username.data, form.password.data, **lockout_settings())
        except LockedOutError:
            audit(db.session, "login_locked", username=form.username.data, remote_addr=request.remote_addr)
            unit_of_work.keep()  # the refused try stays on record although the answer is 429
            flash(_("Too many failed logins for this username. Try again in a few minutes."), "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            audit(
                db.session,
                "login_failed",
                username=form.username.data,
                remote_addr=request.remote_addr,
            )
            unit_of_work.keep()  # a failed try counts towards the lock-out, whatever the answer
            flash(_("Wrong username or password."), "error")
        else:
            login_user(user)
            audit(db.session, "login", user=user, remote_addr=request.remote_addr)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    audit(db.session, "logout", user=current_user, remote_addr=request.remote_addr)
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))
