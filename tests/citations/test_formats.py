"""The registry of export formats."""

from __future__ import annotations

import pytest

from library.citations.formats import WRITERS, get_writer
from tests.citations.corpus import NASTY


def test_registry_offers_the_four_export_formats():
    assert set(WRITERS) == {"bibtex", "biblatex", "ris", "csljson"}


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_writer_declares_its_content_type_extension_and_name(name):
    writer = get_writer(name)
    assert writer.content_type.endswith("charset=utf-8")
    assert writer.file_extension in {"bib", "ris", "json"}
    assert writer.name


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_writer_streams_strings_lazily(name):
    chunks = get_writer(name).write(iter(NASTY))
    assert isinstance(next(chunks), str)
    assert all(isinstance(chunk, str) for chunk in chunks)


def test_get_writer_names_the_valid_choices_when_the_format_is_unknown():
    with pytest.raises(ValueError, match="bibtex, biblatex, ris, csljson"):
        get_writer("endnote")
