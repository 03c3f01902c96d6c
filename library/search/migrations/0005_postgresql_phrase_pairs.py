"""PostgreSQL: the pair words and each doc row's adjacent pairs of them, for phrases.

Existing rows get no pairs and the pair-word table starts empty, which is consistent:
phrases rely on pairs only for words in that table, and ``rebuild_index`` chooses them.
A no-op on SQLite. (On a fresh database 0002/0004 already created both; this is harmless.)
The SQL is frozen here (see 0001).
"""

from django.db import migrations

ADD_SQL = [
    "ALTER TABLE search_pg_doc ADD COLUMN IF NOT EXISTS pairs tsvector NOT NULL DEFAULT ''",
    # Out of line and uncompressed, like vec: the doc rows stay narrow.
    "ALTER TABLE search_pg_doc ALTER COLUMN pairs SET STORAGE EXTERNAL",
    "CREATE INDEX IF NOT EXISTS search_pg_doc_pairs ON search_pg_doc USING gin (pairs)",
    "CREATE TABLE IF NOT EXISTS search_pg_pair_word (word text PRIMARY KEY, share real NOT NULL)",
]
DROP_SQL = [
    "DROP TABLE IF EXISTS search_pg_pair_word",
    "ALTER TABLE search_pg_doc DROP COLUMN IF EXISTS pairs",
]


def add_pairs(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in ADD_SQL:
            cursor.execute(sql)


def drop_pairs(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_postgresql_narrow_rows")]

    operations = [migrations.RunPython(add_pairs, drop_pairs)]
