"""PostgreSQL: split the index into narrow match rows and text rows, add the change log.

Drops the index tables of 0002 and creates the narrow ones; the app's post_migrate handler
then indexes the existing pieces again. A no-op on SQLite. (On a fresh database 0002
already created these tables; recreating them empty is harmless.) The SQL is frozen here
(see 0001).
"""

from django.db import migrations

RECREATE_SQL = [
    "DROP TABLE IF EXISTS search_pg_pair_word",
    "DROP TABLE IF EXISTS search_pg_change",
    "DROP TABLE IF EXISTS search_pg_word",
    "DROP TABLE IF EXISTS search_pg_text",
    "DROP TABLE IF EXISTS search_pg_doc",
    "CREATE TABLE search_pg_doc (piece_id bigint PRIMARY KEY, digest text NOT NULL, date date, "
    "type text NOT NULL, title tsvector NOT NULL, vec tsvector NOT NULL, pairs tsvector NOT NULL "
    "DEFAULT '')",
    "ALTER TABLE search_pg_doc ALTER COLUMN vec SET STORAGE EXTERNAL",
    "ALTER TABLE search_pg_doc ALTER COLUMN pairs SET STORAGE EXTERNAL",
    "CREATE TABLE search_pg_pair_word (word text PRIMARY KEY, share real NOT NULL)",
    "CREATE TABLE search_pg_text (piece_id bigint PRIMARY KEY, title text NOT NULL, authors text "
    "NOT NULL, tags text NOT NULL, synopsis text NOT NULL, body text NOT NULL, folded boolean NOT "
    "NULL, head tsvector NOT NULL)",
    "CREATE TABLE search_pg_word (word text PRIMARY KEY, docs integer NOT NULL)",
    "CREATE TABLE search_pg_change (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), piece_id "
    "bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
    "CREATE INDEX search_pg_change_xid ON search_pg_change (xid)",
    "CREATE INDEX search_pg_doc_vec ON search_pg_doc USING gin (vec)",
    "CREATE INDEX search_pg_doc_title ON search_pg_doc USING gin (title)",
    "CREATE INDEX search_pg_doc_pairs ON search_pg_doc USING gin (pairs)",
    "CREATE INDEX search_pg_text_head ON search_pg_text USING gin (head)",
]


def recreate_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in RECREATE_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_sqlite_filter_indexes")]

    operations = [migrations.RunPython(recreate_tables, migrations.RunPython.noop)]
