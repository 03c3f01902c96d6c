"""Create the PostgreSQL index tables (the PostgreSQL dialect: library/search/backends/).

A no-op on SQLite, whose tables migration 0001 creates. The SQL is frozen here (see 0001).
"""

from django.db import migrations

CREATE_SQL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # English stemming without a stop-word list, like the SQLite dialect: "once only" and
    # "The Who" are searchable, and every engine answers the same queries.
    "CREATE TEXT SEARCH DICTIONARY dossier_english_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION dossier_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION dossier_english ALTER MAPPING FOR asciiword, asciihword, "
    "hword_asciipart WITH dossier_english_stem",
    "ALTER TEXT SEARCH CONFIGURATION dossier_english ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, dossier_english_stem",
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
DROP_SQL = [
    "DROP TABLE IF EXISTS search_pg_pair_word",
    "DROP TABLE IF EXISTS search_pg_change",
    "DROP TABLE IF EXISTS search_pg_word",
    "DROP TABLE IF EXISTS search_pg_text",
    "DROP TABLE IF EXISTS search_pg_doc",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS dossier_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS dossier_english_stem",
]


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in CREATE_SQL:
            cursor.execute(sql)
    # Pieces that already exist are indexed by the app's post_migrate handler.


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
