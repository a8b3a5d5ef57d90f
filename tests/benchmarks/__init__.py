"""Measurements run on demand (never as timed tests): `python -m tests.benchmarks.<name>`."""
