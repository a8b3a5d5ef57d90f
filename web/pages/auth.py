"""Logging in and out of the pages; each role lands on its own home page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import unit_of_work
from ..extensions import db, limiter, login_manager
from ..models import User
from ..services.accounts import audit, authenticate, change_password, end_sessions, user_for_session
from ..services.login_guard import LockedOutError
from .common import form_page, save_from_form

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The logged-in user, from the id and epoch kept in the session cookie (User.get_id)."""
    return user_for_session(db.session(), user_id)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", _l("the two passwords differ"))],
    )


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
            user = authenticate(db.session(), form.username.data, form.password.data, remote_addr=request.remote_addr)
        except LockedOutError:
            audit(db.session(), "login_locked", username=form.username.data, remote_addr=request.remote_addr)
            unit_of_work.keep()  # the refused try stays on record although the answer is 429
            flash(_("Too many failed logins for this username. Try again in a few minutes."), "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            audit(
                db.session(),
                "login_failed",
                username=form.username.data,
                remote_addr=request.remote_addr,
            )
            unit_of_work.keep()  # a failed try counts towards the lock-out, whatever the answer
            flash(_("Wrong username or password."), "error")
        else:
            login_user(user)
            audit(db.session(), "login", user=user, remote_addr=request.remote_addr)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(home_for(user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End the session, and every other session and API token of the user (a copied cookie too)."""
    audit(db.session(), "logout", user=current_user, remote_addr=request.remote_addr)
    end_sessions(db.session(), current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's password; every other session and API token of the user ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        changed = save_from_form(
            form,
            lambda: change_password(
                db.session(),
                user,
                form.current_password.data,
                form.new_password.data,
                request.remote_addr,
            ),
        )
        if changed is not None:
            login_user(changed)  # this session goes on, in the new epoch
            flash(_("Your password is changed; other sessions have ended."), "success")
            return redirect(home_for(changed))
    return form_page("auth/password.html", form)
