"""Fresh planner statistics for the catalogue's tables after a bulk write.

PostgreSQL plans a query from each table's sampled row count (``pg_class.reltuples``).
After a bulk load, a restore, or a run of rolled-back writes, that count can say a table
holding thousands of rows is empty, and the planner then picks nested loops that rescan
a table once per row: the browse facets once ran for minutes on a 71-piece catalogue that
way. Autovacuum corrects the count eventually; the commands that fill tables in bulk
(``load_vocabulary``, ``load_demo``, ``ingest``, ``import_citations``) call
:func:`refresh_planner_statistics` so that the first page after them is planned on the
truth. The search engines analyse their own index tables when a rebuild finishes.

SQLite needs nothing: without an ``ANALYZE`` of its own it plans from fixed heuristics,
which do not drift with the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models

from library.catalogue.models import Author, Authorship, Piece, Region, Topic

CATALOGUE_MODELS: tuple[type[models.Model], ...] = (
    Piece,
    Piece.topics.through,
    Piece.regions.through,
    Authorship,
    Author,
    Topic,
    Region,
)


def refresh_planner_statistics(tables: Iterable[type[models.Model]] = CATALOGUE_MODELS) -> None:
    """ANALYZE ``tables`` on PostgreSQL (a sample of each, well under a second at 100,000)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.db_table) for model in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")
