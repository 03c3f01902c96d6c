"""Commentary PDFs from three independent producers, made once per session and cached.

A producer that is not installed skips its tests on a developer's machine and fails them in
CI (``CI`` set), where ``scripts/install-components.sh`` installs LibreOffice and TeX Live.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from library.ingest.pdf import PdfExtractor, PdfLimits
from tests.ingest import producers

SPECIMENS = producers.specimens(12)


@pytest.fixture(scope="session")
def producer_cache(tmp_path_factory) -> Path:
    """PDFs keyed by content hash, kept across sessions beside pytest's own temp folders."""
    return tmp_path_factory.getbasetemp().parent / "dossier-pdf-producers"


@pytest.fixture(scope="session", params=producers.PRODUCERS)
def produced(request, producer_cache) -> tuple[str, dict[str, bytes]]:
    """(producer, {specimen key: PDF bytes}) for every specimen in :data:`SPECIMENS`."""
    producer = request.param
    missing = producers.missing_producer(producer)
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return producer, producers.build(producer, SPECIMENS, producer_cache)


@pytest.fixture(scope="session")
def layout_extractor():
    with PdfExtractor(PdfLimits(timeout=30)) as shared:
        yield shared
