"""`jiuye imports clean`: delete uploaded sheets left waiting longer than allowed (web.services.uploads)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..services import uploads

imports = AppGroup("imports", help="Uploaded sheets waiting for their import.")


def clean_uploads() -> int:
    """Delete the app's expired uploads; how many (also run by `jiuye serve` at start)."""
    directory = uploads.upload_dir(current_app.instance_path)
    return uploads.clean(directory, uploads.max_age_s())


@imports.command("clean")
def clean() -> None:
    """Delete every uploaded sheet older than IMPORT_PREVIEW_MAX_AGE_HOURS (default 24)."""
    removed = clean_uploads()
    hours = current_app.config["IMPORT_PREVIEW_MAX_AGE_HOURS"]
    click.echo(f"Deleted {removed} uploaded sheet(s) older than {hours} h.")
