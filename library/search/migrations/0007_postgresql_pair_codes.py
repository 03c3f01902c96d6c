"""PostgreSQL: phrase pairs as numbers (``integer[]``), and no second copy of the bodies.

The pairs ``tsvector`` (0005) held each adjacent pair of common words as a "first second"
lexeme with its positions: 12 KB a piece, half of a 3.2 GB index at 100,000 pieces. Each
pair word now has a number (``code``) and a row's ``pairs`` holds one number per pair.

The text rows' ``body`` (a copy of every piece's body, only for the snippets of the page
shown) goes too: snippets read the catalogue's body.

Safe on an existing index without rebuilding it: the pair-word table is emptied in the
same migration as the old column goes, and with no pair words the phrase compiler relies
on no pair (phrases are matched by rechecking ``vec``, as on a small catalogue), so every
answer stays exact. Phrases of common words are slow until ``rebuild_index`` chooses the
pair words again (the README's upgrade note says so); the rebuild also gives the old
column's disk space back. A no-op on SQLite. The SQL is frozen here (see 0001).
"""

from django.db import migrations

FORWARD_SQL = [
    "TRUNCATE search_pg_pair_word",
    "ALTER TABLE search_pg_pair_word ADD COLUMN code integer NOT NULL",
    "ALTER TABLE search_pg_pair_word ADD CONSTRAINT search_pg_pair_word_code UNIQUE (code)",
    "DROP INDEX IF EXISTS search_pg_doc_pairs",
    "ALTER TABLE search_pg_doc DROP COLUMN pairs",
    "ALTER TABLE search_pg_doc ADD COLUMN pairs integer[] NOT NULL DEFAULT '{}'",
    "CREATE INDEX search_pg_doc_pairs ON search_pg_doc USING gin (pairs)",
    "ALTER TABLE search_pg_text DROP COLUMN body",
]
BACKWARD_SQL = [
    # The bodies come back by rebuild_index (the text rows must be written again).
    "TRUNCATE search_pg_doc, search_pg_text",
    "ALTER TABLE search_pg_text ADD COLUMN body text NOT NULL DEFAULT ''",
    "TRUNCATE search_pg_pair_word",
    "ALTER TABLE search_pg_pair_word DROP COLUMN code",
    "DROP INDEX IF EXISTS search_pg_doc_pairs",
    "ALTER TABLE search_pg_doc DROP COLUMN pairs",
    "ALTER TABLE search_pg_doc ADD COLUMN pairs tsvector NOT NULL DEFAULT ''",
    "ALTER TABLE search_pg_doc ALTER COLUMN pairs SET STORAGE EXTERNAL",
    "CREATE INDEX search_pg_doc_pairs ON search_pg_doc USING gin (pairs)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0006_pending_index_write")]

    operations = [migrations.RunPython(_run(FORWARD_SQL), _run(BACKWARD_SQL))]
