"""LaTeX in the TeX Live tree's own ``.bib`` files: the text inside text commands is kept.

pylatexenc parsed the argument of ``\\texttt``, ``\\mbox``, ``\\verb`` and read it as nothing
("A plain \\texttt{book} entry" became "A plain entry"), and read Beebe's ``\\path|…|`` with
its bars. Every such use in the tree's fields, decoded by the reader as an import decodes
it, must keep its words.
"""

from __future__ import annotations

import re

import pytest

from library.citations.readers import bibtex_middlewares
from library.citations.readers.bibtex import read_bibtex
from library.citations.readers.latex import latex_to_text
from tests.texlive import corpus, read_bytes

# A text command around plain words (the words the decoded field must still hold).
_TEXT_COMMAND = re.compile(
    r"\\(?:texttt|textsf|mbox)\s*\{([A-Za-z][\w.\- ]*)\}|\\(?:verb|path)\|([\w.@/\- ]+)\|"
)


@pytest.fixture(scope="module")
def decoded_fields() -> list[tuple[str, str]]:
    """(raw, decoded) for every field value with a backslash, as the reader decodes it."""
    if not corpus():
        pytest.skip("no TeX Live .bib files installed")
    seen: list[tuple[str, str]] = []

    def recording(value: str) -> str:
        text = latex_to_text(value)
        seen.append((value, text))
        return text

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bibtex_middlewares, "latex_to_text", recording)
        for path in corpus():
            data = read_bytes(path)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            if "@" in text:
                read_bibtex(text)
    return [(raw, text) for raw, text in seen if "\\" in raw]


def test_text_inside_text_commands_is_kept(decoded_fields):
    uses = [
        (raw, text, (m.group(1) or m.group(2)).strip())
        for raw, text in decoded_fields
        for m in _TEXT_COMMAND.finditer(raw)
    ]
    assert len(uses) >= 100, "the tree should hold many such commands"
    lost = [(inner, text) for raw, text, inner in uses if inner not in text]
    assert lost == []


def test_no_field_keeps_pylatexenc_s_citation_placeholder(decoded_fields):
    cited = [text for raw, text in decoded_fields if "\\cite" in raw]
    assert cited, "the tree's notes cite other entries"
    assert [text for text in cited if "<cit.>" in text] == []
