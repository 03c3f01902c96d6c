"""unAPI (https://unapi.info/specs/): a reference manager asks which formats a piece comes
in and fetches one, with no scraping. Zotero's unAPI translator follows the page's
``<link rel="unapi-server">`` and each ``<abbr class="unapi-id">``.

The formats are the catalogue's own export writers, so what unAPI serves is byte for byte
what the piece's download links give.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from lxml import etree

from library.catalogue.exports import build_export
from library.catalogue.models import Piece
from library.citations.formats import WRITERS

DOCS = {
    "bibtex": "https://www.bibtex.org/Format/",
    "biblatex": "https://ctan.org/pkg/biblatex",
    "ris": "https://en.wikipedia.org/wiki/RIS_(file_format)",
    "csljson": "https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html",
}


def _formats_xml(piece_id: str | None) -> bytes:
    root = etree.Element("formats")
    if piece_id is not None:
        root.set("id", piece_id)
    for name, writer in WRITERS.items():
        media_type = writer.content_type.split(";")[0]
        etree.SubElement(root, "format", name=name, type=media_type, docs=DOCS[name])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _xml(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type="application/xml; charset=utf-8", status=status)


@require_GET
def unapi(request: HttpRequest) -> HttpResponse:
    """The three unAPI requests: formats offered, formats for one id, one id in one format."""
    piece_id = request.GET.get("id")
    fmt = request.GET.get("format")
    if piece_id is None:
        if fmt is not None:
            return HttpResponse(
                "unAPI: a format needs an id.", status=400, content_type="text/plain"
            )
        return _xml(_formats_xml(None))
    piece = Piece.objects.filter(citation_key=piece_id.replace("\x00", "")[:80]).first()
    if piece is None:
        return HttpResponse("unAPI: no such id.", status=404, content_type="text/plain")
    if fmt is None:
        # 300 Multiple Choices is what the specification asks for this request.
        return _xml(_formats_xml(piece.citation_key), status=300)
    if fmt not in WRITERS:
        return HttpResponse("unAPI: no such format.", status=406, content_type="text/plain")
    export = build_export(Piece.objects.filter(pk=piece.pk), fmt, basename=piece.citation_key)
    response = HttpResponse("".join(export.chunks), content_type=export.content_type)
    response["Content-Disposition"] = f'inline; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
