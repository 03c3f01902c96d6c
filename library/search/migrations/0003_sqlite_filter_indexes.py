"""Indexes for the SQLite dialect's topic and region filters (see FILTER_INDEXES in the
SQLite dialect's backend). A no-op on other databases. The SQL is frozen here (see 0001).
"""

from django.db import migrations

CREATE_SQL = [
    "CREATE INDEX IF NOT EXISTS search_topic_piece ON catalogue_piece_topics (topic_id, piece_id)",
    "CREATE INDEX IF NOT EXISTS search_region_piece ON catalogue_piece_regions (region_id, "
    "piece_id)",
]
DROP_SQL = [
    "DROP INDEX IF EXISTS search_topic_piece",
    "DROP INDEX IF EXISTS search_region_piece",
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in CREATE_SQL:
            cursor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_postgresql"), ("catalogue", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
