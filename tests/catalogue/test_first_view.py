"""A piece's first view before the worker has stored its Cite box (issue 18).

The page formats the Cite box inline with a CSL style parsed once per thread and the
garbage collector paused (library/citations/styles.py, collector.py): it must be byte for
byte the page a fresh parse with the collector on gives, and its round trips must not grow.
Committed transactions, as in production (the page caches work only outside one).
"""

from __future__ import annotations

import contextlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.catalogue import citation_store
from library.catalogue.models import FormattedCitation, Piece
from library.citations import styles
from library.citations.from_piece import record_from_piece
from library.citations.styles import STYLES

pytestmark = pytest.mark.django_db(transaction=True)

#: Statements of a first view with nothing stored (as Django captures them, with the
#: transactions' BEGIN and COMMIT), on each database.
FIRST_VIEW_QUERIES = {"sqlite": 14, "postgresql": 19}


@pytest.fixture
def pieces(make_piece):
    made = [
        make_piece(
            "Mosul Operation",
            subtitle="The Endgame for IS?",
            authors=("Abdul Basit", "Rohan Gunaratna"),
            topics=("terrorism", "iraq-war"),
            regions=("middle-east",),
            number="263/2016",
        ),
        make_piece("Raqqa & the <Caliphate>", authors=("Ḥasan al-Raḥmān",), topics=("terrorism",)),
        make_piece("Maritime Security in the Sulu Sea", authors=(), regions=("southeast-asia",)),
        make_piece("Costs of 'Deterrence'", date=None, topics=("iraq-war",)),
    ]
    FormattedCitation.objects.all().delete()
    return made


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    # The only part that differs between two renderings of one page.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_first_view_is_the_page_a_fresh_parse_with_the_collector_on_gives(
    pieces, client, style, monkeypatch
):
    urls = [piece.get_absolute_url() + f"?style={style}" for piece in pieces]
    now = []
    for url in urls:
        FormattedCitation.objects.all().delete()
        now.append(page(client, url))
    monkeypatch.setattr(styles, "thread_style", styles.load_style)
    monkeypatch.setattr(citation_store, "collector_paused", contextlib.nullcontext)
    before = []
    for url in urls:
        FormattedCitation.objects.all().delete()
        before.append(page(client, url))
    assert now == before
    for piece, html in zip(pieces, now, strict=True):
        record = record_from_piece(Piece.objects.with_related().get(pk=piece.pk))
        (text,) = styles.format_bibliography([record], style, "html", numbered=False)
        assert text in html


def test_a_first_view_makes_no_more_round_trips(pieces, client):
    piece = pieces[0]
    # The process's first counts and style; after a flush the first read of the
    # catalogue's cache key only makes its row and caches nothing, so two views.
    for other in pieces[1:3]:
        client.get(other.get_absolute_url())
    FormattedCitation.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        html = page(client, piece.get_absolute_url())
    assert "Mosul Operation" in html
    assert FormattedCitation.objects.filter(piece_id=piece.pk).count() == 1  # stored
    statements = "\n".join(q["sql"][:70] for q in queries.captured_queries)
    assert len(queries) == FIRST_VIEW_QUERIES[connection.vendor], statements
