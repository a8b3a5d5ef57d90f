"""jiuye's pure matching engine: eligibility, scoring, ranking and county/province plans.

Plain frozen dataclasses and numpy arrays in, matches and plans out. This package imports
nothing of the project and does no I/O, so the web layer, the CLI and the tests all drive it
the same way.
"""

from matcher.types import Config, Laborer, Target

__all__ = ["Config", "Laborer", "Target"]
