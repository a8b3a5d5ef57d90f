"""The learned success model, for the office (issue 14, part 6): how it does on held-out 90-day check-ins
beside the hand-weighted score (and, on generated outcomes, the true probability), and the decision on its
weight in the score — above 0 only while it beats the hand score, recorded with who took it and the audit.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..services import retention
from ..services.convert import matcher_config
from .common import form_page, remote_addr, save_from_form
from .forms import LearnedWeightForm

#: The predictors of the table, in the order shown (keys of `matcher.learn.Evaluation`).
PREDICTORS = ("model", "hand", "truth")


def register_learning_views(bp: Blueprint) -> None:
    """Add /learning (the figures and the decision) to the office's blueprint."""
    name = bp.name

    @bp.route("/learning", methods=["GET", "POST"])
    def learning():
        """The learned model's held-out figures and the weight decision in force; POST takes a new decision."""
        config = matcher_config(current_app.config)
        form = LearnedWeightForm()
        if form.validate_on_submit():
            decided = save_from_form(
                form,
                lambda: retention.decide_learned_weight(
                    db.session(), current_user, float(form.weight.data), config, remote_addr=remote_addr()
                ),
            )
            if decided is not None:
                flash(_("The learned model now weighs %(w)s in the score.", w=f"{decided.weight:g}"), "success")
                return redirect(url_for(f"{name}.learning"))
        evaluation = retention.evaluate_learned_model(db.session(), config)
        decision = retention.learned_weight(db.session())
        if decision is not None and not form.is_submitted():
            form.weight.data = decision.weight
        return form_page("office/learning.html", form, evaluation=evaluation, decision=decision, predictors=PREDICTORS)
