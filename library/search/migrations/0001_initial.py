"""Create the SQLite FTS5 index tables (the SQLite dialect: library/search/backends/).

The SQL is written out here, frozen as it was when this migration shipped, so that an old
migration keeps running the SQL of its time however the live schema constants change.
"""

from django.db import migrations

CREATE_SQL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_piece_fts USING fts5(title, authors, tags, "
    "synopsis, body, digest UNINDEXED, folded UNINDEXED, tokenize='porter unicode61 "
    "remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_head_fts USING fts5(title, authors, tags, "
    "synopsis, content='', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TABLE IF NOT EXISTS search_word (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) "
    "WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS search_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO search_piece_fts(search_piece_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0, 4.0, "
    "2.0, 1.0, 0.0, 0.0)')",
    "INSERT INTO search_head_fts(search_head_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0, 4.0, "
    "2.0)')",
    "CREATE INDEX IF NOT EXISTS search_topic_piece ON catalogue_piece_topics (topic_id, piece_id)",
    "CREATE INDEX IF NOT EXISTS search_region_piece ON catalogue_piece_regions (region_id, "
    "piece_id)",
]
DROP_SQL = [
    "DROP TABLE IF EXISTS search_word_vocab",
    "DROP TABLE IF EXISTS search_word_fts",
    "DROP TABLE IF EXISTS search_word",
    "DROP TABLE IF EXISTS search_head_fts",
    "DROP TABLE IF EXISTS search_piece_fts",
    "DROP TABLE IF EXISTS search_state",
]


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # other databases get their own dialect's tables
    with schema_editor.connection.cursor() as cursor:
        for sql in CREATE_SQL:
            cursor.execute(sql)
    # Pieces that already exist are indexed by the app's post_migrate handler, which runs
    # once every app's migrations are applied (the live models are only valid then).


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
