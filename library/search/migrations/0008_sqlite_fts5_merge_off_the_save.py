"""SQLite: single-piece saves stop merging FTS5 segments in their commit (``automerge=0``);
the worker's upkeep task merges instead (see _INCREMENTAL in the SQLite dialect's backend).
``rebuild_index`` sets the same when it finishes; this sets it on an index that is not
rebuilt. A no-op on other databases. The SQL is frozen here (see 0001).
"""

from django.db import migrations

TABLES = ("search_piece_fts", "search_head_fts")


def configure(automerge: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(
                    f"INSERT INTO {table}({table}, rank) VALUES ('automerge', %s)", [automerge]
                )

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0007_postgresql_pair_codes")]

    operations = [migrations.RunPython(configure(0), configure(4))]
