"""Create the SQLite FTS5 index tables (see library/search/backends/sqlite_fts5.py)."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # other databases get their own dialect's tables
    from library.search.backends.sqlite_fts5 import CREATE_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in CREATE_SQL:
            cursor.execute(sql)
    # Pieces that already exist are indexed by the app's post_migrate handler, which runs
    # once every app's migrations are applied (the live models are only valid then).


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from library.search.backends.sqlite_fts5 import DROP_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
