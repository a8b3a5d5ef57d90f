"""Alembic revisions of jiuye's schema; run them with `jiuye db upgrade`."""
