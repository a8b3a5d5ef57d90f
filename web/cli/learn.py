"""`jiuye learn evaluate` and `jiuye learn decide`: does the learned success model beat the hand score, and
may it weigh in the score?"""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from matcher.learn import Evaluation

from ..errors import DomainError
from ..unit_of_work import unit_of_work

#: The predictors of the learning table, by key of `matcher.learn.Evaluation`, and what each is.
PREDICTORS = {
    "model": "learned model",
    "hand": "hand-weighted score",
    "truth": "generator's true probability (ceiling)",
}


def learning_table(evaluation: Evaluation) -> list[str]:
    """The held-out figures as Markdown table lines: AUC and Brier score with 95 % bootstrap intervals."""
    lines = [
        f"held-out placements: {evaluation.n_test} (trained on {evaluation.n_train}; "
        f"{evaluation.n_boot} bootstrap resamples)",
        "",
        "| predictor | AUC (95 % CI) | Brier score (95 % CI) |",
        "|---|---|---|",
    ]
    for key, name in PREDICTORS.items():
        if key in evaluation.auc:
            auc, brier = evaluation.auc[key], evaluation.brier[key]
            lines.append(
                f"| {name} | {auc.value:.3f} ({auc.low:.3f}–{auc.high:.3f}) "
                f"| {brier.value:.4f} ({brier.low:.4f}–{brier.high:.4f}) |"
            )
    return lines


@click.group("learn")
def learn() -> None:
    """The learned placement-success model (trained on 90-day check-ins)."""


@learn.command("evaluate")
@click.option("--random-seed", default=0, show_default=True, type=int)
def evaluate(random_seed: int) -> None:
    """Train on recorded 90-day check-ins; AUC and Brier on held-out ones for the model, the hand score and
    (synthetic check-ins only) the generator's truth."""
    from ..services.convert import matcher_config
    from ..services.retention import evaluate_learned_model, learned_weight

    with unit_of_work(serial=False) as session:  # it only reads
        evaluation = evaluate_learned_model(session, matcher_config(current_app.config), random_state=random_seed)
        decision = learned_weight(session)
        weight = decision.weight if decision else 0.0
    if evaluation is None:
        click.echo("Not enough 90-day check-ins yet (at least 40, with both outcomes); the score stays hand-weighted.")
        return
    for line in learning_table(evaluation):
        click.echo(line)
    verdict = "beats" if evaluation.model_beats_hand else "does not beat"
    click.echo(f"The learned model {verdict} the hand-weighted score. Its weight in the score now: {weight:g}.")


@learn.command("decide")
@click.option("--weight", required=True, type=float, help="The learned model's weight in the score (0 to 1).")
@click.option("--user", "username", required=True, help="The office user taking the decision (audited).")
@click.option("--random-seed", default=0, show_default=True, type=int)
def decide(weight: float, username: str, random_seed: int) -> None:
    """Set the learned model's weight; above 0 only if it beats the hand score on held-out check-ins now."""
    from ..models import User
    from ..services.convert import matcher_config
    from ..services.retention import decide_learned_weight

    try:
        with unit_of_work() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.BadParameter(f"no user {username}", param_hint="--user")
            decision = decide_learned_weight(
                session, user, weight, matcher_config(current_app.config), random_state=random_seed
            )
            auc = f"AUC learned {decision.model_auc:.3f} · hand {decision.hand_auc:.3f} on {decision.n_test}"
    except DomainError as error:
        raise click.ClickException(f"refused: {error.english()}") from None
    click.echo(f"The learned model now weighs {weight:g} in the score ({auc} held-out check-ins).")
