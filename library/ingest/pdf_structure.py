"""Is this a PDF beyond its first bytes? Cheap structural checks before any parsing.

A PDF reader accepts a file whose ``%PDF-`` header sits anywhere in its first kilobyte and
repairs a missing cross-reference table by scanning for objects. So an HTML page with
``%PDF-1.4`` near its top passed as a PDF and was kept and served as one. A real PDF:

- has nothing that reads as markup before its header (a little binary junk is allowed);
- ends with ``startxref``, the offset of its cross-reference table, then ``%%EOF``.

The reader itself (``pdf_worker``) then insists on a trailer that names the document's
catalogue (``/Root``), which a page of HTML cannot have.
"""

from __future__ import annotations

import re

PDF_MAGIC = b"%PDF-"
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|\?xml|iframe|meta)\b", re.I)
_STARTXREF = re.compile(rb"startxref\s+\d+\s+%%EOF", re.S)


def structure_problem(data: bytes) -> str:
    """Why ``data`` is not a well-formed PDF, or ``""``; assumes the header was found."""
    header_at = data.find(PDF_MAGIC, 0, 1024)
    if header_at > 0 and _MARKUP.search(data[:header_at]):
        return "is not a PDF: it is a web page (HTML) with a PDF header inside it"
    if not _STARTXREF.search(data[-2048:]):
        return (
            "the PDF is corrupt or truncated: it does not end with the pointer to its "
            "cross-reference table (startxref) that every PDF has"
        )
    return ""
