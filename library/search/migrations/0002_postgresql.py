"""Create the PostgreSQL index tables (see library/search/backends/postgres.py).

A no-op on SQLite, whose tables migration 0001 creates.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from library.search.backends.postgres import CREATE_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in CREATE_SQL:
            cursor.execute(sql)
    # Pieces that already exist are indexed by the app's post_migrate handler.


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from library.search.backends.postgres import DROP_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in DROP_SQL:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
