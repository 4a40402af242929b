"""Numbers in the admin API's paths and queries, bounded at the edge: an id or offset past
what the database's columns hold (``2**31 - 1`` for an id on PostgreSQL's ``integer``, ``2**63 -
1`` for SQLite's and for ``OFFSET``) is a 400 in the API's error shape, never an
``OverflowError`` from the driver answered as a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1
MAX_OFFSET = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
RowId = Annotated[int, Path(ge=-MAX_ID, le=MAX_ID)]
