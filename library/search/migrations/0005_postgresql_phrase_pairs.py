"""PostgreSQL: the pair words and each doc row's adjacent pairs of them, for phrases.

Existing rows get no pairs and the pair-word table starts empty, which is consistent:
phrases rely on pairs only for words in that table, and ``rebuild_index`` chooses them.
A no-op on SQLite. (On a fresh database 0002/0004 already created both; this is harmless.)
"""

from django.db import migrations


def add_pairs(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from library.search.backends.postgres import DOC_TABLE, PAIR_WORD_TABLE

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {DOC_TABLE} ADD COLUMN IF NOT EXISTS pairs tsvector NOT NULL DEFAULT ''"
        )
        # Out of line and uncompressed, like vec: the doc rows stay narrow.
        cursor.execute(f"ALTER TABLE {DOC_TABLE} ALTER COLUMN pairs SET STORAGE EXTERNAL")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {DOC_TABLE}_pairs ON {DOC_TABLE} USING gin (pairs)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PAIR_WORD_TABLE} "
            "(word text PRIMARY KEY, share real NOT NULL)"
        )


def drop_pairs(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from library.search.backends.postgres import DOC_TABLE, PAIR_WORD_TABLE

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAIR_WORD_TABLE}")
        cursor.execute(f"ALTER TABLE {DOC_TABLE} DROP COLUMN IF EXISTS pairs")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_postgresql_narrow_rows")]

    operations = [migrations.RunPython(add_pairs, drop_pairs)]
