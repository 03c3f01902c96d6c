"""PostgreSQL: split the index into narrow match rows and text rows, add the change log.

Drops the index tables of 0002 and creates those of library/search/backends/postgres.py
(``TABLE_SQL``); the app's post_migrate handler then indexes the existing pieces again. A
no-op on SQLite. (On a fresh database 0002 already created these tables; recreating them
empty is harmless.)
"""

from django.db import migrations


def recreate_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from library.search.backends.postgres import DROP_TABLES_SQL, TABLE_SQL

    with schema_editor.connection.cursor() as cursor:
        for sql in [*DROP_TABLES_SQL, *TABLE_SQL]:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_sqlite_filter_indexes")]

    operations = [migrations.RunPython(recreate_tables, migrations.RunPython.noop)]
