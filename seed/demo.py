"""Placeholder: replaced below."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    description: str


DEMO_LOGINS: list[DemoLogin] = []
