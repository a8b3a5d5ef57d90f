"""Use cases: each takes a Session first, raises DomainError, flushes but never commits."""
