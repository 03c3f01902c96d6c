"""Make commentary PDFs from text, laid out like a real RSIS commentary, for tests and benchmarks.

A page carries a running header and a footer (the publisher's address and "Page N of M");
the first page opens with the series banner, the publisher's boilerplate, the title over two
lines and the byline, then "Synopsis" and "Commentary"; the body runs over two pages and ends
with the author's bio. Paragraph text may hold "\\n" (a forced line end, e.g. after a
hyphenated "set-") and "\\f" (a page break in mid-sentence).

Also here: the bad inputs the ingest must refuse (scanned, encrypted, huge, looping).
"""

from __future__ import annotations

import io
import textwrap
import zlib
from dataclasses import dataclass, field

from fpdf import FPDF

HEADER = "RSIS Commentaries  |  S. Rajaratnam School of International Studies"
FOOTER = "Nanyang Technological University, Block S4, Level B3, 50 Nanyang Avenue, Singapore"
BOILERPLATE = (
    "RSIS Commentary is a platform to provide timely and, where appropriate, policy-relevant "
    "commentary and analysis of topical and contemporary issues. The authors' views are their "
    "own and do not represent the official position of the S. Rajaratnam School of "
    "International Studies, NTU. These commentaries may be reproduced with prior permission "
    "from RSIS and due recognition to the author(s) and RSIS."
)


@dataclass
class Commentary:
    number: int = 263
    date: str = "28 October 2016"
    title: tuple[str, ...] = ("Maritime Security in the Sulu Sea:", "A New Deal for Patrols?")
    byline: str = "By Ana Santos, Zoë Müller and José Ramírez"
    synopsis: str = (
        "Piracy and kidnapping for ransom in the Sulu Sea have grown since 2016. Joint patrols "
        "by Indonesia, Malaysia and the Philippines are a huge set-\nback for the Abu Sayyaf "
        "Group, but they will not end maritime crime on their own."
    )
    sections: list[tuple[str, list[str]]] = field(
        default_factory=lambda: [
            (
                "",
                [
                    "THE SULU Sea has long been a hub of kidnapping for ransom by the Abu Sayyaf "
                    "Group in the southern Philippines. Seafarers from Indonesia and Malaysia "
                    "were taken from tugboats and fishing trawlers in 2016.",
                    "The three littoral states answered with a trilateral cooperative "
                    "arrangement, signed in Yogyakarta, to coordinate patrols and share "
                    "information on piracy and terrorism at sea.",
                ],
            ),
            (
                "Trilateral Patrols at Sea",
                [
                    "Coordinated naval patrols began in June 2017, supported by air patrols "
                    "over the Sulu Sea and the Celebes Sea. The self-\nstyled maritime "
                    "wing of the group lost several boats in the first months of the "
                    "operations, and the number of attacks fell sharply\fas shipping "
                    "companies rerouted their vessels away from the most dangerous waters.",
                    "Information sharing among the three navies remains uneven, and the "
                    "rules on hot pursuit into another state's waters are still unsettled.",
                ],
            ),
            (
                "What Comes Next",
                [
                    "Counter-terrorism on land matters as much as patrols at sea: the group "
                    "recruits in coastal villages where the state is weak.",
                ],
            ),
        ]
    )
    bio: str = (
        "Ana Santos is a Research Fellow at the S. Rajaratnam School of International Studies "
        "(RSIS), Nanyang Technological University, Singapore."
    )
    share_line: bool = True
    synopsis_heading: str = "Synopsis"
    banner_on_every_page: bool = False


LINE = 5.2
WIDTH = 92
TOP = 28
BOTTOM = 270


class _Writer:
    def __init__(self, header: str = HEADER) -> None:
        self.header = header
        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.core_fonts_encoding = "windows-1252"
        self.pdf.set_auto_page_break(False)
        self.pdf.set_title("")
        self.pages: list[int] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pdf.add_page()
        self.y = TOP

    def font(self, size: float, style: str = "") -> None:
        self.pdf.set_font("helvetica", style=style, size=size)

    def line(self, text: str, *, size: float = 10, style: str = "") -> None:
        if self.y > BOTTOM:
            self.new_page()
        self.font(size, style)
        self.pdf.text(20, self.y, text)
        self.y += LINE * size / 10

    def gap(self) -> None:
        self.y += LINE

    def paragraph(self, text: str, *, size: float = 10, style: str = "") -> None:
        for part_index, part in enumerate(text.split("\f")):
            if part_index:
                self.new_page()
            for segment in part.split("\n"):
                for wrapped in textwrap.wrap(segment, WIDTH) or [""]:
                    self.line(wrapped, size=size, style=style)
        self.gap()

    def finish(self) -> bytes:
        total = self.pdf.pages_count
        for number in range(1, total + 1):
            self.pdf.page = number
            self.font(8)
            self.pdf.text(20, 12, self.header)
            self.pdf.text(20, 284, FOOTER)
            self.pdf.text(170, 290, f"Page {number} of {total}")
        self.pdf.page = total
        return bytes(self.pdf.output())


def commentary_pdf(commentary: Commentary | None = None) -> bytes:
    """A commentary PDF over (at least) two pages, as RSIS lays them out."""
    c = commentary or Commentary()
    banner = f"RSIS Commentary No. {c.number} – {c.date}"
    w = _Writer(header=banner if c.banner_on_every_page else HEADER)
    if not c.banner_on_every_page:
        w.line(banner, size=9, style="B")
        w.gap()
    w.paragraph(BOILERPLATE, size=8)
    for title_line in c.title:
        w.line(title_line, size=16, style="B")
    w.gap()
    w.line(c.byline, size=11, style="B")
    w.gap()
    if c.synopsis_heading:
        w.line(c.synopsis_heading, size=11, style="B")
        w.gap()
    w.paragraph(c.synopsis, style="I")
    w.line("Commentary", size=11, style="B")
    w.gap()
    for heading, paragraphs in c.sections:
        if heading:
            w.line(heading, style="B")
            w.gap()
        for paragraph in paragraphs:
            w.paragraph(paragraph)
    w.paragraph(c.bio, style="I")
    if c.share_line:
        w.paragraph("Please share this publication with your friends. They can subscribe to RSIS")
    return w.finish()


def sample_commentary(index: int) -> Commentary:
    """A distinct commentary per index, for folder runs and the benchmark."""
    c = Commentary(number=100 + index)
    c.title = (f"Maritime Security in the Sulu Sea, Part {index + 1}:", "A New Deal for Patrols?")
    c.synopsis = c.synopsis.replace("since 2016", f"since 2016 (case {index + 1})")
    return c


def scanned_pdf() -> bytes:
    """A page that is only a picture of text, as a scanner makes: no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (800, 1100), 255)
    draw = ImageDraw.Draw(image)
    for row in range(40, 1060, 22):
        draw.rectangle((60, row, 740 - (row * 7) % 200, row + 10), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=0, y=0, w=210)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    """A commentary that opens only with a password."""
    w = _Writer()
    w.pdf.set_encryption(owner_password="owner-secret", user_password="reader-secret")
    w.paragraph("By Ana Santos")
    return w.finish()


def many_pages_pdf(pages: int) -> bytes:
    """A PDF with ``pages`` blank pages."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def raw_pdf(content: bytes, *, compress: bool = False) -> bytes:
    """A one-page PDF whose page content stream is ``content``, written by hand."""
    stream = zlib.compress(content, 1) if compress else content
    filters = b"/Filter /FlateDecode " if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< " + filters + b"/Length " + str(len(stream)).encode() + b" >>\nstream\n"
        b"" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def slow_pdf(operations: int = 400_000) -> bytes:
    """A valid page with so many text operations that extraction takes many seconds."""
    ops = b"BT /F1 1 Tf 10 10 Td (x) Tj ET\n" * operations
    return raw_pdf(ops, compress=True)


def bloated_pdf(megabytes: int = 600) -> bytes:
    """A small file whose content stream inflates to ``megabytes`` of text: a memory bomb."""
    chunk = b"BT /F1 1 Tf 10 10 Td (" + b"x" * 1000 + b") Tj ET\n"
    content = chunk * (megabytes * 1024 * 1024 // len(chunk))
    return raw_pdf(content, compress=True)
