"""PostgreSQL reads a browse page in its order instead of sorting the catalogue."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]


def test_the_newest_first_page_is_read_from_an_index_in_its_order(client, make_piece):
    for n in range(30):
        make_piece(f"Piece {n}", date=datetime.date(2000 + n % 20, 1, 1) if n % 7 else None)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/pieces/").status_code == 200
    listing = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT 20" in q["sql"])
    with connection.cursor() as cursor:
        # As on a large catalogue, where a scan of every row is what the planner avoids.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {listing}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "catalogue_piece_newest" in plan
    assert "Sort" not in plan  # the plain date index read backwards puts nulls first
