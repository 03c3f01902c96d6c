"""Read a commentary's plain text (as copied from a web page or extracted from a PDF).

The layout this understands is the one RSIS and similar series use::

    RSIS Commentary No. 263 – 28 October 2016     (optional banner)
    Title, possibly over two lines
    By First Author, Second Author and Third Author
    Synopsis
    One paragraph.
    Commentary
    Body paragraphs, with short Title Case lines as section headings.
    First Author is a Research Fellow at …         (optional closing bio)

The layout reader for PDFs (:mod:`library.ingest.layout`) writes the same form, with two
additions a web copy may also carry: a ``Topic: …`` line before the title (a series label,
kept out of the title) and ``## `` before a heading it knew from bold type.

Line breaks inside paragraphs, page-break gaps in mid-sentence, publisher boilerplate and
odd whitespace are undone so that what an editor confirms is clean prose. Anything the
parser had to guess is reported in ``ParsedPiece.warnings``; input that is plainly not a
commentary raises :class:`NotACommentary` with the reason.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from library.ingest.types import NotACommentary, ParsedAuthor, ParsedPiece, ParsedSection

# --- characters -------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = dict.fromkeys(
    [*map(ord, "\t\u00a0\u1680\u202f\u205f\u3000\v"), *range(0x2000, 0x200B)], " "
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

# --- markers and metadata -----------------------------------------------------------------

SYNOPSIS_MARKER = re.compile(r"(?i)^synopsis:?$")
COMMENTARY_MARKER = re.compile(r"(?i)^commentary:?$")
BYLINE = re.compile(r"^By\s+(?P<names>\S.*)$")
# "No. 119 – 12 June 2020", "RSIS Commentary No. 263 — 28 October 2016", or "No. 119" with
# the date on a line of its own; en dash, em dash or hyphen.
BANNER = re.compile(
    r"^(?:(?P<series>[A-Z]{2,6})\s+Commentar(?:y|ies)\s*)?"
    r"No\.?\s*(?P<number>\d+(?:/\d{4})?)"
    r"(?:\s*[–—-]\s*(?P<date>.+))?$"
)
_SERIES_PUBLISHERS = {
    "RSIS": "S. Rajaratnam School of International Studies",
    "IDSS": "Institute of Defence and Strategic Studies",
}
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%Y-%m-%d")
# The layout reader (library.ingest.layout) writes a series label printed above the title
# as "Topic: Global Health Security"; web copies print it the same way.
_LABEL = re.compile(r"^Topic:\s*(?P<label>\S.*)$")
# A heading the layout reader knew from its bold type, whatever its case.
_MARKED_HEADING = re.compile(r"^##\s+(?P<heading>\S.*)$")
_BYLINE_CONTINUES = re.compile(r"(?:,|\band|&)\s*$")
_BYLINE_CONTINUATION = re.compile(r"^(?:and|&)\s+\S")
_NAME_SEPARATORS = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}

# Publisher furniture that PDF exports and web copies drag along. A sentence containing one
# of the first group is dropped (never its whole paragraph: with no blank line around it, a
# "paragraph" may hold the title too); a line matching the second group is dropped alone.
_BOILERPLATE_SENTENCES = re.compile(
    r"(?i)commentary is a platform to provide|do not represent the official position"
    r"|views are (?:their|the authors?'?s?) own|may be reproduced with prior permission"
    r"|recognition to the authors?|please share this publication|subscribe to rsis"
    r"|scanning the qr code|please email to editor|@ntu\.edu\.sg"
)
# A sentence ends at . ! ? before a capital, but not after an initial ("S. Rajaratnam") or a
# title ("Dr. Tan").
_SENTENCE_END = re.compile(
    r"(?<![\s(][A-Z]\.)(?<!^[A-Z]\.)(?<!Dr\.)(?<!Mr\.)(?<!Ms\.)(?<!St\.)(?<!Mrs\.)"
    r"(?<=[.!?])\s+(?=[\"“‘'(]?[A-Z])"
)
_BOILERPLATE_LINES = re.compile(
    r"(?i)^(?:nanyang technological university|block s4,.*|.*nanyang avenue.*"
    r"|(?:tel|email|website)\s*:.*|www\.rsis\.edu\.sg|page \d+(?: of \d+)?|\d{1,3})$"
)

# --- paragraphs and headings ----------------------------------------------------------------

_TERMINAL = tuple(".!?:;…\"'”’)]")
_MINOR_WORDS = frozenset(
    "a an and as at but by de for from in into nor of off on or per the to up via vs with".split()
)
_MAX_HEADING_WORDS = 14
_MAX_HEADING_CHARS = 120


def read_text_file(path: str | Path, *, max_bytes: int) -> str:
    """Read and decode a text file for ingest (see :func:`read_text_bytes`)."""
    return decode_text(read_text_bytes(path, max_bytes=max_bytes), source=str(path))


def read_text_bytes(path: str | Path, *, max_bytes: int) -> bytes:
    """A text file's bytes for ingest, refusing what is too big or a PDF before decoding.

    Raises ``NotACommentary`` for size and PDF content (the reason names the limit or the
    problem); an unreadable path raises ``OSError`` for the caller to report.
    """
    source = str(path)
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        size = Path(path).stat().st_size
        raise NotACommentary(
            source, f"the file is {_human_size(size)}, over the {_human_size(max_bytes)} limit"
        )
    if data.startswith(b"%PDF-"):
        raise NotACommentary(source, "is a PDF; PDF ingest is not supported yet")
    return data


def decode_text(data: bytes, *, source: str = "<text>") -> str:
    """Decode uploaded or read bytes as UTF-8 (with or without BOM), else Windows-1252."""
    if b"\x00" in data[:65536]:
        raise NotACommentary(source, "looks like binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if _looks_binary(text):
        raise NotACommentary(source, "looks like binary data, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_commentary(text: str, *, source: str = "<text>") -> ParsedPiece:
    """Turn a commentary's text into a :class:`ParsedPiece`; raises ``NotACommentary``."""
    lines = _clean_lines(text, source)
    synopsis_at = _find_marker(lines, SYNOPSIS_MARKER)
    commentary_at = _find_marker(lines, COMMENTARY_MARKER, start=(synopsis_at or 0))
    header_end = next((i for i in (synopsis_at, commentary_at) if i is not None), None)
    header = _read_header(lines[:header_end] if header_end is not None else lines, source)
    warnings: list[str] = []

    if header_end is None:
        if not header.byline_at:
            raise NotACommentary(
                source, "found no byline ('By …') and no 'Synopsis' or 'Commentary' heading"
            )
        body_lines = lines[header.byline_at + 1 :]
        synopsis = ""
        warnings.append("No 'Synopsis' or 'Commentary' heading; the body starts after the byline.")
    elif synopsis_at is None:
        synopsis = ""
        body_lines = lines[header_end + 1 :]  # header_end is the Commentary heading here
        warnings.append("No 'Synopsis' heading; write a synopsis before saving.")
    elif commentary_at is None:
        blocks = _blocks(lines[synopsis_at + 1 :])
        synopsis = _reflow(blocks[0]) if blocks else ""
        body_lines = [line for block in blocks[1:] for line in [*block, ""]]
        warnings.append("No 'Commentary' heading; the synopsis is taken to be the first paragraph.")
    else:
        synopsis = " ".join(_reflow(b) for b in _blocks(lines[synopsis_at + 1 : commentary_at]))
        body_lines = lines[commentary_at + 1 :]

    if not header.names:
        warnings.append("No byline ('By …') found; add the authors by hand.")
    paragraphs = _join_page_breaks(_paragraphs(body_lines))
    paragraphs, bios = _split_off_bios(paragraphs, header.names)
    sections = _sections(paragraphs)
    if not any(section.paragraphs for section in sections):
        warnings.append("The body is empty.")
    authors = [ParsedAuthor(name, *bios.get(name, ("", ""))) for name in header.names]

    parsed = ParsedPiece(
        title=header.title,
        authors=authors,
        synopsis=synopsis,
        sections=sections,
        series=header.series,
        label=header.label,
        number=header.number,
        publisher=header.publisher,
        date=header.date,
        date_precision="day",
        source=source,
        warnings=warnings,
    )
    parsed.source_hash = content_hash(parsed.title, parsed.synopsis, parsed.body)
    return parsed


def drop_boilerplate_sentences(paragraph: str) -> str:
    """The paragraph without the publisher's boilerplate sentences ("" if that is all)."""
    if not _BOILERPLATE_SENTENCES.search(paragraph):
        return paragraph
    kept = [s for s in _SENTENCE_END.split(paragraph) if not _BOILERPLATE_SENTENCES.search(s)]
    return " ".join(s.strip() for s in kept if s.strip())


def content_hash(*parts: str) -> str:
    """SHA-256 of the text with case and whitespace folded, so a re-wrapped copy matches."""
    folded = re.sub(r"\s+", " ", "\n".join(parts)).strip().casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


# --- cleaning ---------------------------------------------------------------------------------


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    controls = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    return controls > max(8, len(sample) // 100)


def _clean_lines(text: str, source: str) -> list[str]:
    if not text.strip():
        raise NotACommentary(source, "the text is empty")
    if "\x00" in text or _looks_binary(text):
        raise NotACommentary(source, "looks like binary data, not text")
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_INVISIBLE).translate(_SPACES)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROL.sub("", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    first = next((line for line in lines if line), "")
    if not first:
        raise NotACommentary(source, "the text is empty")
    if re.match(r"@[A-Za-z]+\s*[{(]", first):
        raise NotACommentary(source, "looks like a BibTeX file; import it under Import instead")
    if re.match(r"TY {2}- ", first) or re.match(r"TY\s+-\s", first):
        raise NotACommentary(source, "looks like an RIS file; import it under Import instead")
    return [
        "" if _BOILERPLATE_LINES.match(line) and not BANNER.match(line) else line for line in lines
    ]


def _find_marker(lines: list[str], marker: re.Pattern, *, start: int = 0) -> int | None:
    return next((i for i in range(start, len(lines)) if marker.match(lines[i])), None)


def _blocks(lines: Iterable[str]) -> list[list[str]]:
    """Group lines into blank-line separated blocks."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _reflow(lines: list[str]) -> str:
    """Join a block's lines into one line, undoing line-end hyphen splits."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text += line
        else:
            text += " " + line
    return text


# --- header -------------------------------------------------------------------------------------


class _Header:
    def __init__(self) -> None:
        self.title = ""
        self.names: list[str] = []
        self.byline_at: int | None = None
        self.label = ""
        self.series = ""
        self.number = ""
        self.publisher = ""
        self.date: datetime.date | None = None


def _read_header(lines: list[str], source: str) -> _Header:
    header = _Header()
    title_lines: list[str] = []
    byline_text = ""
    last_byline_line = -1
    for index, line in enumerate(lines):
        if not line:
            continue
        banner = BANNER.match(line)
        if banner and (
            banner["series"] or banner["date"] or (header.byline_at is None and not header.number)
        ):
            _apply_banner(header, banner)
            continue
        if header.date is None and (date := parse_date(line)):
            header.date = date
            continue
        label = _LABEL.match(line)
        if label and header.byline_at is None and not title_lines and not header.label:
            header.label = label["label"]
            continue
        byline = BYLINE.match(line)
        if byline and header.byline_at is None and title_lines:
            byline_text = byline["names"]
            header.names = _split_names(byline_text)
            header.byline_at = last_byline_line = index
            continue
        # A long byline wraps: "By A, B, C" / "and D".
        if (
            header.byline_at is not None
            and index == last_byline_line + 1
            and (_BYLINE_CONTINUES.search(byline_text) or _BYLINE_CONTINUATION.match(line))
        ):
            byline_text = f"{byline_text} {line}"
            header.names = _split_names(byline_text)
            last_byline_line = index
            continue
        if header.byline_at is None:
            title_lines.append(line)
    header.title = _reflow(title_lines)
    if header.byline_at is None and len(title_lines) == 1 and BYLINE.match(title_lines[0]):
        header.title = ""
    if not header.title:
        raise NotACommentary(source, "found no title before the byline")
    if len(header.title) > 500:
        raise NotACommentary(
            source,
            f"the text before the byline or 'Synopsis' is {len(header.title)} characters, "
            "too long to be a title",
        )
    if header.number and header.date and "/" not in header.number:
        header.number = f"{header.number}/{header.date.year}"
    return header


def _apply_banner(header: _Header, banner: re.Match) -> None:
    if banner["series"]:
        header.series = f"{banner['series']} Commentaries"
        header.publisher = _SERIES_PUBLISHERS.get(banner["series"], "")
    header.number = banner["number"]
    if banner["date"]:
        header.date = parse_date(banner["date"])


def parse_date(text: str) -> datetime.date | None:
    """A printed date ("12 June 2020", "June 12, 2020", "2020-06-12"), or ``None``."""
    text = text.strip().rstrip(".")
    if not (6 <= len(text) <= 20) or not any(ch.isdigit() for ch in text):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _split_names(byline: str) -> list[str]:
    names: list[str] = []
    for part in _NAME_SEPARATORS.split(byline.strip().rstrip(".,;")):
        part = part.strip()
        if not part:
            continue
        if names and part.casefold() in _NAME_SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


# --- body -----------------------------------------------------------------------------------------


def _paragraphs(lines: list[str]) -> list[str]:
    """Blocks become paragraphs; a Title Case first line glued to its text is split off."""
    paragraphs: list[str] = []
    for block in _blocks(lines):
        if (
            len(block) > 1
            and len(block[0]) <= 0.75 * len(block[1])
            and _is_heading(block[0], strict=True)
        ):
            paragraphs.append(block[0])
            block = block[1:]
        paragraph = drop_boilerplate_sentences(_reflow(block))
        if paragraph:
            paragraphs.append(paragraph)
    return paragraphs


def _join_page_breaks(paragraphs: list[str]) -> list[str]:
    """A paragraph cut mid-sentence by a page break continues in the next one."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not joined[-1].endswith(_TERMINAL) and paragraph[:1].islower():
            joined[-1] = _reflow([joined[-1], paragraph])
        else:
            joined.append(paragraph)
    return joined


def _is_heading(line: str, *, strict: bool = False) -> bool:
    """Short, unpunctuated and in Title Case (or, standing alone, short sentence case)."""
    words = line.split()
    if not words or len(words) > _MAX_HEADING_WORDS or len(line) > _MAX_HEADING_CHARS:
        return False
    if line.endswith((".", ",", ";", ":")) or not _starts_capitalised(line):
        return False
    significant = [w for w in words[1:] if w.casefold() not in _MINOR_WORDS]
    capitalised = sum(1 for w in significant if _starts_capitalised(w))
    if capitalised == len(significant):
        return True
    return not strict and len(words) <= 8 and capitalised >= len(significant) / 2


def _starts_capitalised(word: str) -> bool:
    word = word.lstrip("(\"'‘“[")
    return word[:1].isupper() or word[:1].isdigit()


def _sections(paragraphs: list[str]) -> list[ParsedSection]:
    sections = [ParsedSection("")]
    previous_ends_sentence = True
    for paragraph in paragraphs:
        if marked := _MARKED_HEADING.match(paragraph):
            sections.append(ParsedSection(marked["heading"]))
            previous_ends_sentence = True
            continue
        if previous_ends_sentence and _is_heading(paragraph):
            sections.append(ParsedSection(paragraph))
            previous_ends_sentence = True
            continue
        sections[-1].paragraphs.append(paragraph)
        previous_ends_sentence = paragraph.endswith(_TERMINAL)
    if not sections[0].paragraphs and len(sections) > 1:
        sections.pop(0)
    return sections


def _split_off_bios(
    paragraphs: list[str], names: list[str]
) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Remove closing "X is a … ." paragraphs; return each author's (bio, affiliation)."""
    if not names:
        return paragraphs, {}
    name_pattern = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    sentence = re.compile(
        rf"(?P<who>(?:{name_pattern})(?:(?:,\s*|\s+and\s+)(?:{name_pattern}))*)\s+"
        rf"(?P<verb>is|are|was)\s+(?P<rest>.+?)(?=\s+(?:{name_pattern})\s+(?:is|are|was)\s|$)"
    )
    bios: dict[str, tuple[str, str]] = {}

    def record(matches: list[re.Match]) -> None:
        for match in matches:
            bio = match.group(0).strip()
            affiliation = re.sub(r"^(?:a|an|the)\s+", "", match["rest"]).rstrip(". ")
            for name in names:
                if name in match["who"] and name not in bios:
                    bios[name] = (bio, affiliation)

    while paragraphs and (matches := _bio_sentences(sentence, paragraphs[-1])):
        record(matches)
        paragraphs = paragraphs[:-1]
    if not bios and paragraphs:
        # Set in the body's type with no gap, the bio runs on from the last paragraph:
        # split it off where a sentence opens with a byline name and bios fill the rest.
        last = paragraphs[-1]
        for match in sentence.finditer(last):
            head = last[: match.start()].rstrip()
            if head.endswith(_TERMINAL) and (
                tail := _bio_sentences(sentence, last[match.start() :])
            ):
                record(tail)
                paragraphs = [*paragraphs[:-1], head]
                break
    return paragraphs, bios


def _bio_sentences(sentence: re.Pattern, paragraph: str) -> list[re.Match]:
    """The bio sentences that make up the whole paragraph, or [] if it is not a bio."""
    matches = list(sentence.finditer(paragraph))
    if not matches or matches[0].start() != 0:
        return []
    return matches


def _human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    return f"{size} bytes"  # pragma: no cover
