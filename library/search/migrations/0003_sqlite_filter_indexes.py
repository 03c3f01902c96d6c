"""Indexes for the SQLite dialect's topic and region filters (see FILTER_INDEXES in
library/search/backends/sqlite_fts5.py). A no-op on other databases.
"""

from django.db import migrations


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from library.search.backends.sqlite_fts5 import FILTER_INDEX_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in FILTER_INDEX_SQL:
            cursor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from library.search.backends.sqlite_fts5 import DROP_FILTER_INDEX_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_FILTER_INDEX_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_postgresql"), ("catalogue", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
