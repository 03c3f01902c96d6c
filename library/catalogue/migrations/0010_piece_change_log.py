"""A log of the pieces whose facet values a transaction changed (library/catalogue/facet_arrays.py).

Browse facets, totals and the home page's tallies are counted from per-process arrays of
every piece's type, year, topics, regions and authors. Triggers record, in the writer's own
transaction, the id of every piece whose type, date, byline, topics or regions are written
(by the ORM, a bulk command or raw SQL), so a reader brings its arrays up to date by
re-reading only those pieces. The table is no model: nothing but the triggers writes it
and only ``facet_arrays`` reads it.

* **SQLite**: ``AUTOINCREMENT`` ids are never reused and writers take turns on the write
  lock, so ids grow in commit order: a reader that has applied every row up to id ``n``
  needs exactly the rows above ``n``.
* **PostgreSQL**: transactions commit out of id order, so a row carries its transaction
  id and a reader asks for the rows *not visible* in the snapshot it last read at (as
  ``search_pg_change`` did for the search engine's facet arrays until search's 0010).
  ``TRUNCATE`` fires no row trigger; a statement trigger logs piece 0 for it, which tells
  readers to reload.
"""

from django.db import migrations

TABLE = "catalogue_piece_change"
# (table, column naming the piece); the piece table itself logs only changes of type or date.
TAGS = (
    ("catalogue_piece_topics", "piece_id"),
    ("catalogue_piece_regions", "piece_id"),
    ("catalogue_authorship", "piece_id"),
)

SQLITE_CREATE = (
    f"CREATE TABLE {TABLE} (id integer PRIMARY KEY AUTOINCREMENT, piece_id bigint NOT NULL, "
    "at integer NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400 AS integer)))",
    f"CREATE INDEX {TABLE}_at ON {TABLE} (at)",
)

PG_CREATE = (
    f"CREATE TABLE {TABLE} (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
    "piece_id bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
    f"CREATE INDEX {TABLE}_xid ON {TABLE} (xid)",
    f"CREATE INDEX {TABLE}_at ON {TABLE} (at)",
    f"""CREATE FUNCTION catalogue_log_piece() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO {TABLE} (piece_id) VALUES (OLD.id);
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {TABLE} (piece_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE FUNCTION catalogue_log_tagged_piece() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO {TABLE} (piece_id) VALUES (OLD.piece_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO {TABLE} (piece_id) VALUES (NEW.piece_id);
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE FUNCTION catalogue_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (piece_id) VALUES (0);
    RETURN NULL;
END $$""",
)


def _sqlite_triggers() -> list[str]:
    log = f"INSERT INTO {TABLE} (piece_id) VALUES"
    found = [
        f"CREATE TRIGGER catalogue_piece_insert_logged AFTER INSERT ON catalogue_piece "
        f"BEGIN {log} (NEW.id); END",
        f"CREATE TRIGGER catalogue_piece_update_logged AFTER UPDATE OF type, date "
        "ON catalogue_piece WHEN OLD.type IS NOT NEW.type OR OLD.date IS NOT NEW.date "
        f"BEGIN {log} (NEW.id); END",
        f"CREATE TRIGGER catalogue_piece_delete_logged AFTER DELETE ON catalogue_piece "
        f"BEGIN {log} (OLD.id); END",
    ]
    for table, column in TAGS:
        found += [
            f"CREATE TRIGGER {table}_insert_logged AFTER INSERT ON {table} "
            f"BEGIN {log} (NEW.{column}); END",
            f"CREATE TRIGGER {table}_update_logged AFTER UPDATE ON {table} "
            f"BEGIN {log} (OLD.{column}); {log} (NEW.{column}); END",
            f"CREATE TRIGGER {table}_delete_logged AFTER DELETE ON {table} "
            f"BEGIN {log} (OLD.{column}); END",
        ]
    return found


def _pg_triggers() -> list[str]:
    found = [
        "CREATE TRIGGER catalogue_piece_logged AFTER INSERT OR DELETE ON catalogue_piece "
        "FOR EACH ROW EXECUTE FUNCTION catalogue_log_piece()",
        "CREATE TRIGGER catalogue_piece_update_logged AFTER UPDATE ON catalogue_piece "
        "FOR EACH ROW WHEN (OLD.type IS DISTINCT FROM NEW.type "
        "OR OLD.date IS DISTINCT FROM NEW.date) EXECUTE FUNCTION catalogue_log_piece()",
        "CREATE TRIGGER catalogue_piece_truncate_logged AFTER TRUNCATE ON catalogue_piece "
        "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_log_truncate()",
    ]
    for table, _ in TAGS:
        found += [
            f"CREATE TRIGGER {table}_logged AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION catalogue_log_tagged_piece()",
            f"CREATE TRIGGER {table}_truncate_logged AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_log_truncate()",
        ]
    return found


def install(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in (*PG_CREATE, *_pg_triggers()) if postgres else (*SQLITE_CREATE, *_sqlite_triggers()):
        schema_editor.execute(sql)


def remove(apps, schema_editor):
    # Dropping the table drops its indexes; the triggers live on the catalogue tables.
    if schema_editor.connection.vendor == "postgresql":
        for table in ("catalogue_piece", *(t for t, _ in TAGS)):
            for name in ("logged", "update_logged", "truncate_logged"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}")
        for function in ("catalogue_log_piece", "catalogue_log_tagged_piece", "catalogue_log_truncate"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for table in ("catalogue_piece", *(t for t, _ in TAGS)):
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_logged")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ("catalogue", "0009_page_caches"),
    ]

    operations = [migrations.RunPython(install, remove)]
