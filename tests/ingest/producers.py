"""Commentary PDFs made by three independent producers, for the layout tests and the benchmark.

The fpdf2 fixtures in :mod:`tests.ingest.pdfmaker` put a blank line between blocks, which real
PDF text extraction never gives; every test passed while real files failed (issue 14). Here
the same commentaries are typeset by three producers that share no code and add no gaps:

* **fpdf2** with tight spacing: line height 1.2 x the font size, no space between blocks or
  paragraphs, no first-line indent;
* **LibreOffice** (``soffice --headless --convert-to pdf``) from a .docx written with
  python-docx, paragraph spacing zero;
* **pdflatex** from a LaTeX template (Computer Modern, indented paragraphs, no parskip).

Two page layouts: ``boilerplate-first`` (the publisher's notice in small print, the number
line, the title) and ``title-first`` (the title, the number line under it, the notice at the
end). Each commentary runs over two or three pages with bold headings, a closing bio, a
running header and page numbers. The texts come from the demo catalogue
(``library/catalogue/data/demo.json``): titles, names and synopses that no unit test uses.

Each :class:`Specimen` carries what a correct reading must give, so tests and the benchmark
score the same expectations. :func:`build` caches PDFs by content hash in a folder, because
LibreOffice and pdflatex take about a second per file.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "library" / "catalogue" / "data" / "demo.json"
PRODUCERS = ("fpdf2", "libreoffice", "pdflatex")
LAYOUTS = ("boilerplate-first", "title-first")
GENERATOR_VERSION = "3"  # bump to invalidate cached PDFs when a template changes

RUNNING_HEADER = "RSIS Commentary"
BOILERPLATE = (
    "RSIS Commentary is a platform to provide timely and, where appropriate, policy-relevant "
    "commentary and analysis of topical and contemporary issues. The authors' views are their "
    "own and do not represent the official position of the S. Rajaratnam School of "
    "International Studies (RSIS), NTU. These commentaries may be reproduced with prior "
    "permission from RSIS and due recognition to the author(s) and RSIS. Please email to "
    "Editor RSIS Commentary at RSISPublications@ntu.edu.sg."
)
LABELS = ("Global Health Security", "Terrorism Studies", "Maritime Security")
DASHES = ("–", "—", "-")
AFFILIATIONS = (
    "a Research Fellow at the International Centre for Political Violence and Terrorism "
    "Research (ICPVTR), RSIS.",
    "an Associate Professor at the S. Rajaratnam School of International Studies.",
    "a Senior Analyst in the Centre of Excellence for National Security, RSIS.",
)
MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class Specimen:
    """One commentary as typeset, and what reading it back must give."""

    key: str
    layout: str
    number: int
    date: datetime.date
    banner: str  # "short" (No. 119 – date), "series" (RSIS Commentary No. …), "own-line"
    dash: str
    label: str
    title: str
    authors: tuple[str, ...]
    byline: str
    synopsis: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    bio: str

    @property
    def date_text(self) -> str:
        return f"{self.date.day} {MONTHS[self.date.month - 1]} {self.date.year}"

    @property
    def banner_lines(self) -> list[str]:
        if self.banner == "own-line":
            return [f"No. {self.number}", self.date_text]
        prefix = "RSIS Commentary " if self.banner == "series" else ""
        return [f"{prefix}No. {self.number} {self.dash} {self.date_text}"]

    @property
    def expected_number(self) -> str:
        return f"{self.number}/{self.date.year}"

    @property
    def paragraphs(self) -> list[str]:
        return [p for _, paragraphs in self.sections for p in paragraphs]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _ in self.sections if heading]


def _names(entry: dict) -> list[str]:
    return [
        f"{a['given']} {a['family']}".strip()
        for a in entry.get("authors", [])
        if a.get("family") and a.get("given")
    ]


def _heading(entry: dict) -> str:
    words = entry["title"].split(":")[0].split()
    return " ".join(words[:7]).rstrip(",.;:")


def _byline(names: list[str], style: int) -> str:
    if len(names) == 1:
        return names[0]
    last = ("and", "&", ", and")[style % 3]
    head = ", ".join(names[:-1])
    return f"{head}{last if last.startswith(',') else ' ' + last} {names[-1]}"


def specimens(count: int = 12) -> list[Specimen]:
    """``count`` distinct commentaries, alternating layouts, banner forms, labels and bylines."""
    entries = json.loads(DEMO.read_text(encoding="utf-8"))
    people = [name for entry in entries for name in _names(entry)]
    with_people = [entry for entry in entries if _names(entry)]
    result = []
    for index in range(count):
        entry = with_people[index % len(with_people)]
        title = entry["title"]
        if entry.get("subtitle"):
            title = f"{title}: {entry['subtitle']}"
        if index % 4 == 3:  # long enough to run over three lines in 16 pt
            title = f"{title}, and What It Means for Southeast Asia's Security and the Wider Region"
        names = _names(entry)
        wanted = (1, 2, 3, 4, 5)[index % 5]
        extra = iter(people[(index * 7) % len(people) :] + people)
        while len(names) < wanted:
            candidate = next(extra)
            if candidate not in names:
                names.append(candidate)
        others = [entries[(index * 11 + k * 5 + 3) % len(entries)] for k in range(14)]
        others = [o for o in others if o is not entry][:11]
        sections = (
            ("", (others[0]["synopsis"], others[1]["synopsis"])),
            (_heading(others[2]), tuple(o["synopsis"] for o in others[2:5])),
            (_heading(others[5]), tuple(o["synopsis"] for o in others[5:8])),
            (_heading(others[8]), tuple(o["synopsis"] for o in others[8:11])),
        )
        bio = " ".join(
            f"{name} is {AFFILIATIONS[(index + k) % len(AFFILIATIONS)]}"
            for k, name in enumerate(names[:2])
        )
        result.append(
            Specimen(
                key=f"{index:02d}",
                layout=LAYOUTS[index % 2],
                number=100 + index * 17,
                date=datetime.date(2016 + index % 8, 1 + (index * 5) % 12, 1 + (index * 3) % 28),
                banner=("short", "series", "own-line")[index % 3],
                dash=DASHES[(index // 3) % 3],
                label=LABELS[index % 3] if index % 4 == 1 else "",
                title=title,
                authors=tuple(names),
                byline=f"By {_byline(names, index)}",
                synopsis=entry["synopsis"],
                sections=sections,
                bio=bio,
            )
        )
    return result


# --- fpdf2 ------------------------------------------------------------------------------------


def fpdf2_pdf(spec: Specimen) -> bytes:
    """Tight spacing: every line 1.2 x its size, no gap between blocks, no indent."""
    from fpdf import FPDF

    class Page(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "", 8)
            self.set_y(10)
            self.cell(0, 4, RUNNING_HEADER)
            self.set_y(22)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("helvetica", "", 8)
            self.cell(0, 4, str(self.page_no()), align="C")

    pdf = Page(format="A4", unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(22, 22, 22)
    pdf.set_auto_page_break(True, 20)
    pdf.add_page()

    def block(text: str, size: float, style: str = "") -> None:
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, size * 1.2 * 0.3528, text, new_x="LMARGIN", new_y="NEXT")

    def banner() -> None:
        for line in spec.banner_lines:
            block(line, 10, "B")

    if spec.layout == "boilerplate-first":
        block(BOILERPLATE, 7)
        banner()
    if spec.label:
        block(spec.label.upper(), 10, "B")
    block(spec.title, 16, "B")
    if spec.layout == "title-first":
        banner()
    block(spec.byline, 11, "B")
    block("SYNOPSIS", 11, "B")
    block(spec.synopsis, 10.5, "I")
    block("COMMENTARY", 11, "B")
    for heading, paragraphs in spec.sections:
        if heading:
            block(heading, 10.5, "B")
        for paragraph in paragraphs:
            block(paragraph, 10.5)
    block(spec.bio, 10.5, "I")
    if spec.layout == "title-first":
        block(BOILERPLATE, 7)
    return bytes(pdf.output())


def fpdf2_plain_pdf(spec: Specimen) -> bytes:
    """A plainer house style: a logo word, the notice at body size, the title larger but not
    bold, a regular byline, mixed-case markers, and the bio in body type right after the
    last paragraph (no gap, no italics)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(22, 22, 22)
    pdf.set_auto_page_break(True, 20)
    pdf.add_page()

    def block(text: str, size: float, style: str = "") -> None:
        pdf.set_font("times", style, size)
        pdf.multi_cell(0, size * 1.15 * 0.3528, text, new_x="LMARGIN", new_y="NEXT")

    block("RSIS", 14, "B")
    block(BOILERPLATE, 10)
    for line in spec.banner_lines:
        block(line, 10)
    if spec.label:
        block(spec.label, 10, "I")
    block(spec.title, 15)
    block(spec.byline, 10)
    block("Synopsis", 10, "B")
    block(spec.synopsis, 10)
    block("Commentary", 10, "B")
    for heading, paragraphs in spec.sections:
        if heading:
            block(heading, 10, "B")
        for paragraph in paragraphs:
            block(paragraph, 10)
    block(spec.bio, 10)
    return bytes(pdf.output())


# --- LibreOffice ------------------------------------------------------------------------------


def write_docx(spec: Specimen, path: Path) -> None:
    """A Word file with zero paragraph spacing, a running header and a page-number field."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Liberation Sans"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    section.header.paragraphs[0].add_run(RUNNING_HEADER).font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)

    def block(content: str, size: float, *, bold: bool = False, italic: bool = False) -> None:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(content)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic

    def banner() -> None:
        for line in spec.banner_lines:
            block(line, 10, bold=True)

    if spec.layout == "boilerplate-first":
        block(BOILERPLATE, 7)
        banner()
    if spec.label:
        block(spec.label.upper(), 10, bold=True)
    block(spec.title, 16, bold=True)
    if spec.layout == "title-first":
        banner()
    block(spec.byline, 11, bold=True)
    block("SYNOPSIS", 11, bold=True)
    block(spec.synopsis, 11, italic=True)
    block("COMMENTARY", 11, bold=True)
    for heading, paragraphs in spec.sections:
        if heading:
            block(heading, 11, bold=True)
        for paragraph in paragraphs:
            block(paragraph, 11)
    block(spec.bio, 11, italic=True)
    if spec.layout == "title-first":
        block(BOILERPLATE, 7)
    document.save(path)


def libreoffice_pdfs(specs: list[Specimen], folder: Path) -> dict[str, bytes]:
    """Convert every commentary in one soffice run (start-up is most of its cost)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise ProducerMissing("soffice (Debian: libreoffice-writer-nogui)")
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        write_docx(spec, folder / f"{spec.key}.docx")
    # A private profile: another soffice on the machine must not capture this conversion.
    with tempfile.TemporaryDirectory(prefix="dossier-lo-") as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *(str(folder / f"{spec.key}.docx") for spec in specs),
            ],
            check=True,
            capture_output=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    return {spec.key: (folder / f"{spec.key}.pdf").read_bytes() for spec in specs}


# --- pdflatex ---------------------------------------------------------------------------------

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "-": "-{}",  # no "--" ligature where the text has two hyphens
    "'": "'{}",
    "—": "---",
    "–": "--",
    "æ": r"\ae{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


LATEX_TEMPLATE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[utf8]{inputenc}
\usepackage[margin=2.5cm,headsep=0.8cm]{geometry}
\usepackage{fancyhdr}
\pagestyle{fancy}\fancyhf{}\renewcommand{\headrulewidth}{0pt}
\fancyhead[L]{\footnotesize %(header)s}\fancyfoot[C]{\footnotesize\thepage}
\setlength{\parskip}{0pt}
\exhyphenpenalty=10000
\begin{document}
%(body)s
\end{document}
"""


def latex_source(spec: Specimen) -> str:
    """The commentary as a LaTeX document: blocks follow each other with no added space."""
    parts: list[str] = []

    def block(text: str, style: str) -> None:
        parts.append(r"{\noindent" + style + " " + latex_escape(text) + r"\par}")

    def banner() -> None:
        for line in spec.banner_lines:
            block(line, r"\small\bfseries")

    if spec.layout == "boilerplate-first":
        block(BOILERPLATE, r"\scriptsize")
        banner()
    if spec.label:
        block(spec.label.upper(), r"\small\bfseries")
    block(spec.title, r"\LARGE\bfseries")
    if spec.layout == "title-first":
        banner()
    block(spec.byline, r"\bfseries")
    block("SYNOPSIS", r"\bfseries")
    block(spec.synopsis, r"\itshape")
    block("COMMENTARY", r"\bfseries")
    for heading, paragraphs in spec.sections:
        if heading:
            block(heading, r"\bfseries")
        for index, paragraph in enumerate(paragraphs):
            parts.append(("\\noindent " if index == 0 else "") + latex_escape(paragraph) + "\n")
    parts.append(r"{\itshape " + latex_escape(spec.bio) + r"\par}")
    if spec.layout == "title-first":
        block(BOILERPLATE, r"\scriptsize")
    return LATEX_TEMPLATE % {"header": RUNNING_HEADER, "body": "\n".join(parts)}


def pdflatex_pdf(spec: Specimen, folder: Path) -> bytes:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise ProducerMissing("pdflatex (Debian: texlive-latex-base)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{spec.key}.tex").write_text(latex_source(spec), encoding="utf-8")
    subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{spec.key}.tex"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return (folder / f"{spec.key}.pdf").read_bytes()


# --- building and caching -----------------------------------------------------------------------


class ProducerMissing(RuntimeError):
    """A producer's program is not installed; the message names it and its Debian package."""


def missing_producer(producer: str) -> str | None:
    """What to install for ``producer``, or ``None`` when it is ready."""
    if producer == "libreoffice" and shutil.which("soffice") is None:
        return "soffice not found: apt-get install libreoffice-writer-nogui"
    if producer == "pdflatex" and shutil.which("pdflatex") is None:
        return "pdflatex not found: apt-get install texlive-latex-base"
    return None


def _digest(producer: str, spec: Specimen) -> str:
    payload = json.dumps([GENERATOR_VERSION, producer, repr(spec)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def build(producer: str, specs: list[Specimen], cache: Path) -> dict[str, bytes]:
    """Every specimen's PDF from ``producer``, reusing those cached under ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    result: dict[str, bytes] = {}
    todo: list[Specimen] = []
    for spec in specs:
        cached = cache / f"{producer}-{_digest(producer, spec)}.pdf"
        if cached.exists():
            result[spec.key] = cached.read_bytes()
        else:
            todo.append(spec)
    if todo:
        with tempfile.TemporaryDirectory(prefix=f"dossier-{producer}-") as work:
            made = _make(producer, todo, Path(work))
        for spec in todo:
            cached = cache / f"{producer}-{_digest(producer, spec)}.pdf"
            partial = cached.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(made[spec.key])
            partial.replace(cached)
            result[spec.key] = made[spec.key]
    return result


def _make(producer: str, specs: list[Specimen], work: Path) -> dict[str, bytes]:
    if producer == "fpdf2":
        return {spec.key: fpdf2_pdf(spec) for spec in specs}
    if producer == "libreoffice":
        return libreoffice_pdfs(specs, work)
    if producer == "pdflatex":
        return {spec.key: pdflatex_pdf(spec, work) for spec in specs}
    raise ValueError(f"unknown producer {producer!r}")


# --- scoring ------------------------------------------------------------------------------------

FIELDS = ("title", "authors", "date", "number", "synopsis", "body")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def fold(text: str) -> str:
    """Whitespace and quote style folded: pdflatex prints ' as ’, which is the same text."""
    return " ".join(text.translate(_QUOTES).split())


def score(spec: Specimen, parsed) -> dict[str, bool]:
    """Which fields of ``parsed`` (a ``ParsedPiece``) match what was typeset, exactly."""
    return {
        "title": fold(parsed.title) == fold(spec.title),
        "authors": parsed.author_names == list(spec.authors),
        "date": parsed.date == spec.date,
        "number": parsed.number == spec.expected_number,
        "synopsis": fold(parsed.synopsis) == fold(spec.synopsis),
        # The whole body, word for word: no boilerplate, running header, page number or bio.
        "body": fold(parsed.body) == fold(spec.body),
    }
