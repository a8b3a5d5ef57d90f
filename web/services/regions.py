"""Region codes as ranges: the one way every query says "lies in this region".

A region's code is the prefix of every code below it (province 14, city 1410, county 141030,
township 141030100, village 141030100201), so "in the region" is a range on the code, which an
index on the column serves, rather than a ``LIKE`` that cannot use it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from ..errors import NotFoundError


def in_region(column: Any, prefix: str) -> ColumnElement[bool]:
    """column lies in the region: a range on the code, so that an index on column serves it."""
    if not prefix.isdigit():
        raise NotFoundError.of("region", prefix)
    upper = str(int(prefix) + 1).zfill(len(prefix))
    if len(upper) > len(prefix):  # all nines: no upper neighbour
        return column >= prefix
    return and_(column >= prefix, column < upper)
