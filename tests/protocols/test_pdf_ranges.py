"""Attached PDFs open inline and answer byte-range requests, as PDF viewers ask."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from library.protocols.ranges import parse_range

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@pytest.fixture
def pdf_url(commentary, client, reader) -> str:
    # Attachments are for signed-in users unless ATTACHMENTS_PUBLIC (tests/test_security.py).
    client.force_login(reader)
    commentary.attachment.save("x.pdf", ContentFile(PDF), save=False)
    commentary.attachment_sha256 = "ab" * 32
    commentary.save()
    return f"/pieces/{commentary.citation_key}/attachment/"


def test_the_whole_pdf_opens_inline_and_says_it_takes_ranges(client, pdf_url, commentary):
    response = client.get(pdf_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == f'inline; filename="{commentary.citation_key}.pdf"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(PDF))


def test_download_asks_for_an_attachment(client, pdf_url):
    response = client.get(pdf_url, {"download": "1"})
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(PDF) - 1),
        ("bytes=-50", len(PDF) - 50, len(PDF) - 1),
        ("bytes=10-999999", 10, len(PDF) - 1),
    ],
)
def test_a_byte_range_is_answered_with_206(client, pdf_url, header, first, last):
    response = client.get(pdf_url, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == PDF[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(PDF)}"
    assert response["Content-Type"] == "application/pdf"


def test_an_unsatisfiable_range_is_416(client, pdf_url):
    response = client.get(pdf_url, headers={"Range": f"bytes={len(PDF) + 5}-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(PDF)}"


def test_a_stale_if_range_gets_the_whole_file(client, pdf_url):
    stale = client.get(pdf_url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200
    fresh = client.get(pdf_url, headers={"Range": "bytes=0-9", "If-Range": f'"{"ab" * 32}"'})
    assert fresh.status_code == 206


def test_several_ranges_or_nonsense_fall_back_to_the_whole_file():
    assert parse_range("bytes=0-1,5-6", 100) is None
    assert parse_range("items=0-1", 100) is None
    assert parse_range("bytes=9-2", 100) is None
    assert parse_range("bytes=-0", 100) is False
