"""Read a commentary PDF from the layout of its pages, not only from its text.

Real PDF text extraction gives no blank line between the publisher's notice, the number line
and the title (issue 14), so a reader that works on text alone drops the title with the
boilerplate or takes the running header for the title. Here the worker
(:mod:`library.ingest.pdf_worker`) reports every text run with its position, rendered size
and weight, and this module:

1. groups runs into lines, and drops running headers and footers *by position*: lines in the
   top or bottom band of the page that repeat (digits folded) on at least half the pages, and
   bare page numbers there;
2. groups lines into blocks by style (size, bold, italic), vertical gap, first-line indent,
   and a short last line ending a sentence; a marker (SYNOPSIS, COMMENTARY), banner, date or
   byline line always stands alone, so tight spacing cannot glue it to its neighbour;
3. takes the **title** as the largest-type block in the header of page 1, whatever comes
   before it; banner and date lines around it give number and date; a short line directly
   above it is a series label, kept out of the title; everything else before the title is
   dropped sentence by sentence as boilerplate and reported;
4. writes the commentary back as the canonical text :func:`library.ingest.text.parse_commentary`
   reads (banner, ``Topic:`` label, title on one line, byline, blank-line separated
   paragraphs, ``## `` before bold headings), so both readers share one grammar for the body,
   the bio and the synopsis.

No Django, no I/O: input is the worker's JSON-ready page list.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from library.ingest.pdf_worker import BOLD, ITALIC
from library.ingest.text import (
    BANNER,
    BYLINE,
    COMMENTARY_MARKER,
    SYNOPSIS_MARKER,
    drop_boilerplate_sentences,
    parse_date,
)

# Share of the page height at top and bottom where furniture lives: Word and LibreOffice put
# headers and footers half an inch to an inch from the edge (4-9 % of an A4 page).
EDGE_BAND = 0.1
_PAGE_NUMBER = re.compile(
    r"(?i)^(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?$"
)
_SERIES_NAME = re.compile(r"^[A-Z]{2,6}\s+Commentar(?:y|ies)$")
# Where a byline may wrap: after a comma, "and", "&" or an initial; or before "and"/"&".
_BYLINE_BREAK = re.compile(r"(?:,|\band|&|\b[A-Z]\.)$")
_BYLINE_CONTINUATION = re.compile(r"^(?:and|&)\s")
# A publisher's name set as a logo ("RSIS", "NTU") before the title: furniture, not text.
_LOGO = re.compile(r"^[A-Z][A-Z&.-]{1,11}$")
_TERMINAL = tuple(".!?:;…\"'”’)]")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st"})
# pdflatex's OT1 fonts draw "é" as an accent glyph before the letter: put them back together.
_SPACING_ACCENTS = {"´": "\u0301", "`": "\u0300", "¨": "\u0308", "ˆ": "\u0302", "˜": "\u0303"}
_LOOSE_ACCENT = re.compile(r"([´`¨ˆ˜])\s?([A-Za-z])")
_KEEP_HYPHEN_PREFIXES = frozenset(
    "self anti counter non co ex post pre pro semi well cross long short high low half "
    "multi quasi neo pan pseudo sub super ultra vice war so".split()
)
# Word processors do not hyphenate unless told to, so a hyphen at their line end is the word's;
# TeX hyphenates by its patterns, so a prefix at its line end ("war-fare") proves nothing.
_NO_AUTO_HYPHENATION = re.compile(r"(?i)libreoffice|openoffice|microsoft.*word|google docs")
_TEX = re.compile(r"(?i)pdftex|luatex|xetex|tex output")
_MAX_LABEL_WORDS = 8
_MAX_HEADING_WORDS = 14


@dataclass
class Line:
    """One printed line: its text, where it starts, its type size and style."""

    text: str
    x: float
    y: float
    size: float
    style: int
    page: int

    @property
    def bold(self) -> bool:
        return bool(self.style & BOLD)

    @property
    def italic(self) -> bool:
        return bool(self.style & ITALIC)


@dataclass
class Block:
    """Consecutive lines of one style with no paragraph break between them."""

    lines: list[Line]

    @property
    def size(self) -> float:
        return max(line.size for line in self.lines)

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def bold(self) -> bool:
        return all(line.bold for line in self.lines)

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


@dataclass
class LayoutText:
    """The canonical text for the text parser, and what the layout reading had to guess."""

    text: str
    warnings: list[str] = field(default_factory=list)


# --- lines ------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Undo ligatures and loose accents, fold odd spaces: what a reader would have typed."""
    text = text.translate(_LIGATURES)
    text = _LOOSE_ACCENT.sub(lambda m: m[2] + _SPACING_ACCENTS[m[1]], text)
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def page_lines(page: dict, number: int) -> list[Line]:
    """Group a page's text runs into lines (runs on one baseline), top to bottom."""
    lines: list[Line] = []
    weights: list[Counter] = []
    current: Line | None = None
    for x, y, size, style, text in page["chunks"]:
        for offset, part in enumerate(text.split("\n")):
            if not part.strip():
                continue
            part_y = y - offset * size * 1.2
            if current is not None and abs(part_y - current.y) <= 0.35 * max(size, current.size):
                current.text += part
                current.size = max(current.size, size)
                current.x = min(current.x, x)
                weights[-1][style] += len(part.strip())
                continue
            current = Line(part, x, part_y, size, style, number)
            lines.append(current)
            weights.append(Counter({style: len(part.strip())}))
    for line, weight in zip(lines, weights, strict=True):
        line.style = weight.most_common(1)[0][0]
        line.text = normalise(line.text)
    lines = [line for line in lines if line.text]
    lines.sort(key=lambda line: -line.y)  # stable: runs on one baseline keep their order
    return lines


def _fold(text: str) -> str:
    return re.sub(r"\d+", "#", text).casefold()


def strip_furniture(pages: list[dict], lines_by_page: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers and footers found by position, and bare page numbers.

    A line counts as furniture when it lies in the top or bottom band of its page and either
    is a page number or, digits folded, recurs in those bands on at least half the pages
    (and two). A banner repeated as the running header stays on page 1: it carries the
    number and date.
    """
    edges: list[list[Line]] = []
    for page, lines in zip(pages, lines_by_page, strict=True):
        bottom, height = page.get("bottom", 0.0), page["height"] or 842.0
        low, high = bottom + EDGE_BAND * height, bottom + (1 - EDGE_BAND) * height
        edges.append([line for line in lines if line.y <= low or line.y >= high])
    counts: Counter = Counter()
    for page_edges in edges:
        counts.update({_fold(line.text) for line in page_edges})
    needed = max(2, (len(lines_by_page) + 1) // 2)
    repeated = {text for text, count in counts.items() if count >= needed}
    kept: list[list[Line]] = []
    for number, (lines, page_edges) in enumerate(zip(lines_by_page, edges, strict=True)):
        furniture = {
            id(line)
            for line in page_edges
            if _PAGE_NUMBER.match(line.text)
            or (
                _fold(line.text) in repeated
                and not (number == 0 and BANNER.match(line.text) and len(lines_by_page) > 1)
            )
        }
        kept.append([line for line in lines if id(line) not in furniture])
    return kept


# --- blocks -----------------------------------------------------------------------------------


def _standalone(line: Line) -> bool:
    """Lines that are a block of their own however tightly they are set."""
    text = line.text
    if SYNOPSIS_MARKER.match(text) or COMMENTARY_MARKER.match(text):
        return True
    return line.page == 0 and bool(BANNER.match(text) or parse_date(text))


def _typical_length(lines: list[Line]) -> dict[float, float]:
    """A full line's length in characters for each type size (ragged right taken into account)."""
    by_size: dict[float, list[int]] = {}
    for line in lines:
        by_size.setdefault(round(line.size), []).append(len(line.text))
    return {
        size: sorted(lengths)[int(0.9 * (len(lengths) - 1))] for size, lengths in by_size.items()
    }


def _left_margins(lines_by_page: list[list[Line]]) -> list[float]:
    margins = []
    for lines in lines_by_page:
        xs = [round(line.x) for line in lines]
        margins.append(Counter(xs).most_common(1)[0][0] if xs else 0.0)
    return margins


def build_blocks(lines_by_page: list[list[Line]]) -> list[Block]:
    """Split the flow of lines into blocks at style changes, gaps, indents and short ends."""
    every = [line for lines in lines_by_page for line in lines]
    full = _typical_length(every)
    margins = _left_margins(lines_by_page)
    blocks: list[Block] = []
    previous: Line | None = None
    for line in every:
        if previous is None or (
            _breaks(previous, line, full, margins) and not _byline_runs_on(blocks[-1], line)
        ):
            blocks.append(Block([line]))
        else:
            blocks[-1].lines.append(line)
        previous = line
    return blocks


def _byline_runs_on(block: Block, line: Line) -> bool:
    """A byline wrapped after an initial ("Stathis N." / "Kalyvas") is one block: its short,
    full-stopped line is no paragraph end."""
    previous = block.lines[-1]
    gap = previous.y - line.y
    return (
        bool(BYLINE.match(block.lines[0].text))
        and len(block.lines) < 3
        and line.page == previous.page
        and line.style == previous.style
        and abs(line.size - previous.size) <= 0.6
        and 0 < gap <= 1.75 * line.size
        and not _standalone(line)
        and not BYLINE.match(line.text)
        and bool(_BYLINE_BREAK.search(previous.text) or _BYLINE_CONTINUATION.match(line.text))
    )


def _breaks(previous: Line, line: Line, full: dict[float, float], margins: list[float]) -> bool:
    if _standalone(previous) or _standalone(line) or BYLINE.match(line.text):
        return True
    if previous.style != line.style or abs(previous.size - line.size) > 0.6:
        return True
    ends_sentence = previous.text.endswith(_TERMINAL)
    if line.page != previous.page:
        return ends_sentence  # a paragraph cut by the page break continues
    gap = previous.y - line.y
    if gap <= 0 or gap > 1.75 * max(previous.size, line.size):
        return True
    if line.x > margins[line.page] + 0.6 * line.size and line.x > previous.x + 0.6 * line.size:
        return True  # first-line indent
    typical = full.get(round(previous.size), 0)
    return ends_sentence and len(previous.text) < 0.8 * typical


# --- reading the first page --------------------------------------------------------------------


def body_size(lines: list[Line]) -> float:
    """The type size that carries most of the characters: the body text's."""
    weights: Counter = Counter()
    for line in lines:
        weights[round(line.size * 2) / 2] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def _is_marker(block: Block) -> bool:
    text = block.text
    return bool(SYNOPSIS_MARKER.match(text) or COMMENTARY_MARKER.match(text))


def _title_candidate(block: Block) -> bool:
    text = block.text
    return not (
        BANNER.match(text)
        or parse_date(text)
        or BYLINE.match(text)
        or _SERIES_NAME.match(text)
        or _is_marker(block)
        or not drop_boilerplate_sentences(text)
    )


def _is_label(block: Block, title: Block) -> bool:
    words = block.text.split()
    return (
        len(block.lines) == 1
        and 0 < len(words) <= _MAX_LABEL_WORDS
        and not block.text.endswith(_TERMINAL)
        and block.size < title.size
        and bool(drop_boilerplate_sentences(block.text))
    )


def _label_text(text: str) -> str:
    """A label set in capitals reads better in title case ("GLOBAL HEALTH" -> "Global Health")."""
    return text.title() if text.isupper() else text


def _is_heading(block: Block, size: float) -> bool:
    text = block.text
    return (
        block.bold
        and len(block.lines) <= 2
        and len(text.split()) <= _MAX_HEADING_WORDS
        and block.size <= size * 1.35
        and not text.endswith((".", ",", ";", ":"))
    )


def read_layout(pages: list[dict], *, producer: str = "") -> LayoutText:
    """The commentary on ``pages`` (the worker's reply) as canonical text for the text parser."""
    lines_by_page = strip_furniture(
        pages, [page_lines(page, number) for number, page in enumerate(pages)]
    )
    every = [line for lines in lines_by_page for line in lines]
    if not every:
        return LayoutText("")
    size = body_size(every)
    blocks = build_blocks(lines_by_page)
    words = _vocabulary(every)
    hyphenation = (
        "keep"
        if _NO_AUTO_HYPHENATION.search(producer)
        else "join"
        if _TEX.search(producer)
        else "guess"
    )

    def prose(block: Block) -> str:
        return _join_lines([line.text for line in block.lines], words, hyphenation)

    first_marker = next((i for i, b in enumerate(blocks) if _is_marker(b)), None)
    byline_at = next((i for i, b in enumerate(blocks[:first_marker]) if BYLINE.match(b.text)), None)
    # The header ends with the byline, or at SYNOPSIS/COMMENTARY when there is none: what
    # follows the byline (a synopsis printed without its heading) is the text's, not ours.
    header_end = byline_at + 1 if byline_at is not None else first_marker
    header = [(i, b) for i, b in enumerate(blocks[:header_end]) if b.page == 0]
    candidates = [(i, b) for i, b in header if _title_candidate(b)]
    title_at = None
    if candidates:
        title_at, title = max(candidates, key=lambda item: (item[1].size, -item[0]))
        if title.size < size * 1.15:
            title_at = None
    if title_at is None:
        # No larger type to go by: hand the text over as it stands and let the text parser try.
        parts = [_emit(block, size, prose) for block in blocks]
        return LayoutText(
            "\n\n".join(part for part in parts if part),
            ["The title was not set in larger type; check it."],
        )
    if header_end is None:
        # No byline and no SYNOPSIS/COMMENTARY: what follows the title is the body's.
        header = [(i, b) for i, b in header if i <= title_at]

    out_header: list[str] = []
    warnings: list[str] = []
    left_out: list[str] = []
    label = ""
    for position, (index, block) in enumerate(header):
        text = block.text
        if index == title_at:
            continue
        if BANNER.match(text) or parse_date(text):
            out_header.append(text)
        elif BYLINE.match(text):
            continue
        elif (
            index < title_at
            and position + 1 < len(header)
            and header[position + 1][0] == title_at
            and _is_label(block, blocks[title_at])
        ):
            label = _label_text(text)
        else:
            remainder = drop_boilerplate_sentences(prose(block))
            if remainder and not _LOGO.match(remainder):
                left_out.append(remainder)
    if label:
        out_header.append(f"Topic: {label}")
    out_header.append(prose(blocks[title_at]))
    if byline_at is not None:
        out_header.append(prose(blocks[byline_at]))
    if left_out:
        shown = " / ".join(left_out)
        warnings.append(
            f"Left out text printed before the synopsis that is not title, byline or banner: "
            f"{shown[:200]}"
        )

    if byline_at is not None:
        body_start = byline_at + 1
    else:
        body_start = first_marker if first_marker is not None else title_at + 1
    body = [_emit(block, size, prose) for block in blocks[body_start:]]
    text = "\n".join(out_header) + "\n\n" + "\n\n".join(part for part in body if part)
    return LayoutText(text, warnings)


def _emit(block: Block, size: float, prose: Callable[[Block], str]) -> str:
    """A body block as canonical text: a marker, a ``## `` heading or a paragraph."""
    if _is_marker(block):
        return block.text
    if _is_heading(block, size):
        return "## " + block.text
    return drop_boilerplate_sentences(prose(block))


# --- joining lines ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _vocabulary(lines: list[Line]) -> set[str]:
    """Every word and hyphenated compound printed whole on a line, casefolded."""
    found: set[str] = set()
    for line in lines:
        words = _WORD.findall(line.text)
        if line.text.endswith("-") and words:
            words = words[:-1]  # the split word itself is no evidence
        found.update(word.casefold() for word in words)
    return found


def _join_lines(lines: list[str], words: set[str], hyphenation: str) -> str:
    """Lines of one paragraph as one line, deciding each line-end hyphen on the evidence.

    The text itself decides first (the word printed whole elsewhere, with or without its
    hyphen) and a capital after the hyphen keeps it ("al-Qaeda"). Then the producer:
    ``"keep"`` for word processors, which do not hyphenate; ``"join"`` for TeX, which does;
    ``"guess"`` for the rest: keep after a common compound prefix ("self-styled"), else join.
    """
    text = ""
    for line in lines:
        if not text:
            text = line
            continue
        match = re.search(r"([^\W\d_]+)-$", text)
        if match and line[:1].isalpha():
            head = match[1]
            tail = _WORD.match(line)
            tail_word = tail[0].split("-")[0] if tail else ""
            joined = (head + tail_word).casefold()
            hyphenated = f"{head}-{tail_word}".casefold()
            if joined in words:
                keep = False
            elif hyphenated in words or line[:1].isupper():
                keep = True
            elif hyphenation == "guess":
                keep = head.casefold() in _KEEP_HYPHEN_PREFIXES
            else:
                keep = hyphenation == "keep"
            text = (text if keep else text[:-1]) + line
        else:
            text += " " + line
    return text
