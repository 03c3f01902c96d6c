"""PostgreSQL: the text indexes' pending lists are the worker's to merge, and writes are counted.

Each GIN index collects new entries in a pending list that is merged into the index once it
reaches ``gin_pending_list_limit``, by the insert that filled it: 300–600 ms inside one save
at 100,000 pieces. The worker's ``maintain_index`` now merges them (``gin_clean_pending_list``)
every ``SEARCH_UPKEEP_EVERY`` (100) index writes, counted by the change log's new ``n`` column, so the
limit is only reached when no worker runs. The limit is set on each index (4 MB, the server
default) so the worker's head start does not depend on the server's setting; a lower global
setting would otherwise make saves merge before the worker is asked. ``rebuild_index``
creates the indexes with the same parameter (schema.GIN_STORAGE). A no-op on SQLite. The SQL
is frozen here (see 0001).
"""

from django.db import migrations

INDEXES = ("search_pg_doc_vec", "search_pg_doc_title", "search_pg_doc_pairs", "search_pg_text_head")

FORWARD_SQL = [
    *(f"ALTER INDEX IF EXISTS {name} SET (gin_pending_list_limit = 4096)" for name in INDEXES),
    "ALTER TABLE search_pg_change ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY",
]
BACKWARD_SQL = [
    *(f"ALTER INDEX IF EXISTS {name} RESET (gin_pending_list_limit)" for name in INDEXES),
    "ALTER TABLE search_pg_change DROP COLUMN n",
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
    dependencies = [("search", "0008_sqlite_fts5_merge_off_the_save")]

    operations = [migrations.RunPython(_run(FORWARD_SQL), _run(BACKWARD_SQL))]
