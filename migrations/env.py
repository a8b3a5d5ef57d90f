"""Alembic environment: runs revisions against the app's engine and compares with its models."""

from alembic import context
from flask import current_app

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def run_migrations_online() -> None:
    """Run revisions on the app's own engine, in one transaction."""
    engine = migrate_ext.db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            **{
                "compare_type": True,
                **migrate_ext.configure_args,
                # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
                "render_as_batch": connection.dialect.name == "sqlite",
            },
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=str(migrate_ext.db.engine.url), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
