"""A parsed CSL style kept per thread formats exactly what a fresh parse formats.

citeproc-py keeps the entry it is formatting on the style (the formatter on its root, the
suppressed variables on its layout), so a style parsed once must give the same text as
one parsed for the entry, whatever was formatted with it before, and two threads must
never share one. The reference is ``load_style``, a fresh parse for every entry.
"""

from __future__ import annotations

import sys
import threading

import pytest

from library.citations import styles
from library.citations.styles import STYLES, format_bibliography
from tests.citations.corpus import NASTY

#: The four defaults, a numeric style, a note-free science style and a dependent style.
SAMPLE = [*sorted(STYLES), "ieee", "nature", "american-medical-association"]


def fresh(records, style_id, output, monkeypatch) -> list[str]:
    """What a style parsed for this call gives (the code before ``thread_style``)."""
    monkeypatch.setattr(styles, "thread_style", styles.load_style)
    try:
        return format_bibliography(records, style_id, output, numbered=False)
    finally:
        monkeypatch.undo()


def expected_texts(monkeypatch) -> dict[tuple[str, str, str], str]:
    return {
        (style_id, output, record.key): fresh([record], style_id, output, monkeypatch)[0]
        for style_id in SAMPLE
        for output in ("html", "text")
        for record in NASTY
    }


def test_a_kept_style_formats_each_entry_as_a_fresh_parse_in_any_order(monkeypatch):
    expected = expected_texts(monkeypatch)
    # Every entry after every other, alternating HTML and text on the same parsed style:
    # nothing one entry leaves on the style may show in the next.
    for style_id in SAMPLE:
        for order in (NASTY, tuple(reversed(NASTY))):
            for record in order:
                for output in ("html", "text", "html"):
                    (text,) = format_bibliography([record], style_id, output, numbered=False)
                    assert text == expected[(style_id, output, record.key)], (style_id, record.key)
    # Whole bibliographies (sorted, year suffixes, numbered) on the kept styles too.
    for style_id in SAMPLE:
        monkeypatch.setattr(styles, "thread_style", styles.load_style)
        reference = format_bibliography(NASTY, style_id, "html")
        monkeypatch.undo()
        assert format_bibliography(NASTY, style_id, "html") == reference


def test_two_threads_formatting_at_once_each_get_their_own_texts(monkeypatch):
    expected = expected_texts(monkeypatch)
    # One thread HTML, the other text, on the same style ids at once: a shared parsed style
    # would print one thread's entry with the other's formatter.
    start = threading.Barrier(2)
    wrong: list[tuple[str, str, str]] = []
    done = [0, 0]

    def work(index: int, output: str) -> None:
        start.wait()
        for _ in range(3):
            for style_id in SAMPLE:
                for record in NASTY:
                    (text,) = format_bibliography([record], style_id, output, numbered=False)
                    if text != expected[(style_id, output, record.key)]:
                        wrong.append((style_id, output, record.key))
                    done[index] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads inside an entry, not between entries
    try:
        threads = [
            threading.Thread(target=work, args=(i, out)) for i, out in enumerate(["html", "text"])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert done == [3 * len(SAMPLE) * len(NASTY)] * 2
    assert wrong == []


def test_each_thread_parses_its_own_and_keeps_a_bounded_number():
    mine = styles.thread_style("apa")
    assert styles.thread_style("apa") is mine
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(styles.thread_style("apa")))
    thread.start()
    thread.join()
    assert other[0] is not mine
    ids = ["apa", "ieee", "nature", "american-medical-association", "the-lancet",
           "chicago-author-date", "modern-language-association", "harvard-cite-them-right",
           "elsevier-harvard"]  # fmt: skip
    assert len(ids) > styles.THREAD_STYLES
    for style_id in ids:
        styles.thread_style(style_id)
    kept = styles._parsed.styles
    assert list(kept) == ids[-styles.THREAD_STYLES :]  # the least recently used went first
    assert styles.thread_style(ids[-1]) is kept[ids[-1]]


def test_an_unknown_style_is_still_refused_and_not_kept():
    with pytest.raises(ValueError, match="not-a-style"):
        format_bibliography(NASTY[:1], "not-a-style")
    assert "not-a-style" not in getattr(styles._parsed, "styles", {})


def test_remembering_which_elements_print_a_variable_changes_no_text(monkeypatch):
    # citeproc-py's own calls_variable, walked on every call, against the remembered one.
    from citeproc import model

    def texts() -> dict[tuple[str, str, str], str]:
        return {
            (style_id, output, record.key): format_bibliography(
                [record], style_id, output, numbered=False
            )[0]
            for style_id in SAMPLE
            for output in ("html", "text")
            for record in NASTY
        }

    remembered = texts()
    monkeypatch.setattr(model.Parent, "calls_variable", styles._citeproc_parent_calls_variable)
    monkeypatch.setattr(model.Text, "calls_variable", styles._citeproc_text_calls_variable)
    walked = texts()
    monkeypatch.undo()
    assert remembered == walked
    assert model.Text.calls_variable is not styles._citeproc_text_calls_variable


def _texlive_sample() -> list:
    """Six .bib files spread over the installed TeX Live tree (records nobody here wrote)."""
    from tests.imports.test_texlive_corpus import FILES

    return FILES[:: max(1, len(FILES) // 6)][:6]


@pytest.mark.parametrize("path", _texlive_sample(), ids=lambda p: p.name)
def test_real_bib_entries_format_as_a_fresh_parse_with_citeproc_own_walk(path, monkeypatch):
    # Up to 30 entries of a real file, as an import saves them, each formatted alone in the
    # four default styles: the kept style with remembered calls_variable against a style
    # parsed for the call with citeproc-py's own calls_variable (both changes off).
    from citeproc import model

    from tests.imports.test_texlive_round_trip import records_of

    records = records_of(path)
    if not records:
        pytest.skip("no entry of this file imports (test_texlive_corpus says why)")
    kept = {
        (style_id, r.key): format_bibliography([r], style_id, "html", numbered=False)[0]
        for style_id in sorted(STYLES)
        for r in records
    }
    monkeypatch.setattr(styles, "thread_style", styles.load_style)
    monkeypatch.setattr(model.Parent, "calls_variable", styles._citeproc_parent_calls_variable)
    monkeypatch.setattr(model.Text, "calls_variable", styles._citeproc_text_calls_variable)
    walked = {
        (style_id, r.key): format_bibliography([r], style_id, "html", numbered=False)[0]
        for style_id in sorted(STYLES)
        for r in records
    }
    monkeypatch.undo()
    assert kept == walked
