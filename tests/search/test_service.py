"""``service``: what the search page and the command share, beyond any one engine."""

from __future__ import annotations

import datetime

import pytest

from library.search import service

pytestmark = pytest.mark.django_db


def test_result_rows_come_in_two_queries_with_bylines_in_order_and_no_body(
    make_piece, django_assert_num_queries
):
    first = make_piece("First", authors=("Abdul Basit", "Rohan Gunaratna"), body="Long body.")
    second = make_piece("Second", authors=(), date=datetime.date(2020, 2, 3))
    with django_assert_num_queries(2):
        pieces = service._result_pieces([second.pk, first.pk])
        assert pieces[first.pk].byline == ["Abdul Basit", "Rohan Gunaratna"]
        assert pieces[second.pk].byline == []
        assert pieces[second.pk].date == datetime.date(2020, 2, 3)
        assert pieces[first.pk].full_title == "First"
    assert "body" in pieces[first.pk].get_deferred_fields()
