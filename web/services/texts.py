"""Short texts to laborers' phones (issue 13, part 6), through a pluggable sender.

Laborers never log in, so what concerns them (an offer, a lapse, a follow-up visit) reaches them as a
short Chinese text. `queue_text` writes it to the outbox (`TextMessage`) in the transaction of the change
it reports; `deliver_pending` hands the pending ones to the configured sender after the commit
(`jiuye tick`, `jiuye texts send`). Senders:

- ``file`` (the default): appends one JSON line per text to ``<instance>/texts-outbox.jsonl`` — what a
  county without an SMS contract prints or forwards by hand;
- ``console``: writes each text to the log;
- ``package.module:ClassName``: a real provider's adapter, any class with ``name`` and
  ``send(phone, body)`` (raising on failure) built with the app's config (``SMS_OPTIONS``).

Tests use the file sender in a temporary instance: no text ever leaves the machine from a test.
"""

from __future__ import annotations

import importlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Laborer, TextMessage

log = logging.getLogger(__name__)


class Sender(Protocol):
    """What a text backend does: send one text, or raise."""

    name: str

    def send(self, phone: str, body: str) -> None: ...


class FileSender:
    """Appends each text as a JSON line to a file (the default: nothing leaves the machine)."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, phone: str, body: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(), "phone": phone, "body": body}, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class ConsoleSender:
    """Writes each text to the log."""

    name = "console"

    def send(self, phone: str, body: str) -> None:
        log.warning("text to %s: %s", phone, body)


def sender_from_config(config: Any = None) -> Sender:
    """The sender the configuration names (`SMS_BACKEND`)."""
    config = config if config is not None else current_app.config
    backend = config.get("SMS_BACKEND") or "file"
    if backend == "file":
        return FileSender(Path(config.get("SMS_OUTBOX_PATH") or Path(current_app.instance_path) / "texts-outbox.jsonl"))
    if backend == "console":
        return ConsoleSender()
    module_name, _, class_name = backend.partition(":")
    if not class_name:
        raise ValueError(f"SMS_BACKEND {backend!r}: expected 'file', 'console' or 'package.module:ClassName'")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**(config.get("SMS_OPTIONS") or {}))


def queue_text(session: Session, laborer: Laborer, body: str, *, kind: str, key: str | None = None) -> bool:
    """Write a text to a laborer to the outbox (once per `key`); False when the laborer has no phone or it exists."""
    if not laborer.phone:
        return False
    if key is not None and session.scalar(select(TextMessage.id).where(TextMessage.dedupe_key == key)):
        return False
    session.add(TextMessage(laborer_id=laborer.id, phone=laborer.phone, body=body, kind=str(kind), dedupe_key=key))
    session.flush()
    return True


def deliver_pending(session: Session, sender: Sender, *, limit: int = 1000) -> tuple[int, int]:
    """Send the pending texts, oldest first, marking each sent or its error. Returns (sent, failed).

    Run it after the transaction that queued the texts has committed, in a unit of its own: a text whose
    send fails keeps `sent_at` empty and its error, and is tried again next time.
    """
    pending = session.scalars(
        select(TextMessage).where(TextMessage.sent_at.is_(None)).order_by(TextMessage.id).limit(limit)
    ).all()
    sent = failed = 0
    for text in pending:
        try:
            sender.send(text.phone, text.body)
        except Exception as error:  # a provider's failure is recorded and retried, never raised into the tick
            text.error = str(error)[:200]
            failed += 1
            continue
        text.sent_at = datetime.now(UTC)
        text.backend = sender.name
        text.error = None
        sent += 1
    session.flush()
    return sent, failed
