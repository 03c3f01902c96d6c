"""PostgreSQL: a sequence numbers the index writes instead of the change-log table.

``search_pg_change`` logged (transaction id, piece id) for every index write. Since the
search's facets count over the catalogue's own arrays (kept up to date from the catalogue's
log, library/catalogue/facet_read.py) only its number ``n`` was read, to tell every
``SEARCH_UPKEEP_EVERY``-th write to ask the worker for upkeep; and nothing pruned it but a
rebuild, so it grew by a row a save. The sequence ``search_pg_write_number`` starts where the
log's numbers ended (upkeep keeps its rhythm) and the table goes. A no-op on SQLite. The SQL
is frozen here (see 0001).
"""

from django.db import migrations

FORWARD_SQL = [
    "CREATE SEQUENCE search_pg_write_number",
    "SELECT setval('search_pg_write_number', "
    "coalesce((SELECT max(n) FROM search_pg_change), 0) + 1, false)",
    "DROP TABLE search_pg_change",
]
BACKWARD_SQL = [
    "CREATE TABLE search_pg_change (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), piece_id "
    "bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "n bigint GENERATED ALWAYS AS IDENTITY)",
    "CREATE INDEX search_pg_change_xid ON search_pg_change (xid)",
    "DROP SEQUENCE search_pg_write_number",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0009_postgresql_gin_upkeep")]

    operations = [migrations.RunPython(_run(FORWARD_SQL), _run(BACKWARD_SQL))]
