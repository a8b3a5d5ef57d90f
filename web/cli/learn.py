"""`jiuye learn evaluate`: does the learned success model beat the hand-weighted score yet?"""

from __future__ import annotations

import click
from flask import current_app

from ..unit_of_work import unit_of_work


@click.group("learn")
def learn() -> None:
    """The learned placement-success model (trained on 90-day check-ins)."""


@learn.command("evaluate")
@click.option("--random-seed", default=0, show_default=True, type=int)
def evaluate(random_seed: int) -> None:
    """Train on recorded 90-day check-ins and compare AUCs with the hand score on held-out placements."""
    from ..services.convert import matcher_config
    from ..services.retention import evaluate_learned_model

    with unit_of_work(serial=False) as session:  # it only reads
        comparison = evaluate_learned_model(session, matcher_config(current_app.config), random_state=random_seed)
    if comparison is None:
        click.echo("Not enough 90-day check-ins yet (at least 40, with both outcomes); the score stays hand-weighted.")
        return
    click.echo(f"held-out placements: {comparison.n_test} (trained on {comparison.n_train})")
    click.echo(f"AUC learned model {comparison.model_auc:.3f} · hand-weighted score {comparison.hand_auc:.3f}")
    verdict = "beats" if comparison.model_beats_hand else "does not beat"
    click.echo(f"The learned model {verdict} the hand-weighted score.")
