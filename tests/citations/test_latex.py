"""LaTeX escaping and brace protection, checked by rule and by compiling with pdflatex."""

from __future__ import annotations

import functools
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.citations.latex import (
    _noun_pattern,
    _proper_spans,
    braces_balanced,
    escape_specials,
    needs_protection,
    protect_title,
    safe_url,
    to_latex,
)
from tests.citations.toolchain import need, pdflatex

SPECIALS = "& % $ # _ { } ~ ^ \\"


def test_to_latex_escapes_every_special_character():
    latex = to_latex(SPECIALS)
    assert latex == (
        r"{\&} {\%} {\$} {\#} {\_} {\textbraceleft} {\textbraceright} "
        r"{\textasciitilde} {\textasciicircum} {\textbackslash}"
    )


def test_escape_specials_escapes_the_same_characters_and_keeps_utf8():
    assert escape_specials("Nguyễn & Wæver {x}") == (
        r"Nguyễn {\&} Wæver {\textbraceleft}x{\textbraceright}"
    )


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("ñ", r"{\~n}"),
        ("Zoë", r"Zo{\"e}"),
        ("Wæver", r"W{\ae}ver"),
        ("Nguyễn", r"Nguy{\~{\^{e}}}n"),
        ("Thị", r"Th{\d{i}}"),
        ("Việt", r"Vi{\d{\^{e}}}t"),
        ("Raḥmān", r"Ra{\d{h}}m{\={a}}n"),
        ("ʿAbd", r"{\textquoteleft}Abd"),
        ("<script>", r"{\textless}script{\textgreater}"),
        ("Россия", "Rossiya"),
    ],
)
def test_to_latex_writes_non_ascii_as_commands_bibtex_sees_as_one_letter(text, latex):
    assert to_latex(text) == latex


def test_to_latex_output_is_pure_ascii_with_balanced_braces():
    text = "Nguyễn Thị Minh, ʿAbd al-Raḥmān Ḥasan, Zoë Wæver, 中国, Ελλάδα " + SPECIALS
    latex = to_latex(text)
    assert latex.isascii()
    assert braces_balanced(latex)


def test_to_latex_collapses_newlines_which_would_end_a_bibtex_paragraph():
    assert to_latex("a\n\nb\tc") == "a b c"


@pytest.mark.parametrize(
    ("word", "first", "protect"),
    [
        ("IS", False, True),
        ("IS", True, True),
        ("ASEAN", False, True),
        ("COVID-19", False, True),
        ("iPhone", True, True),
        ("McCain", True, True),
        ("Mosul", False, False),
        ("Mosul", True, False),
        ("the", False, False),
        ("", False, False),
    ],
)
def test_needs_protection_follows_the_documented_rule(word, first, protect):
    assert needs_protection(word, first=first) is protect


def test_needs_protection_protects_a_known_proper_noun_unless_it_comes_first():
    assert needs_protection("Mosul", proper=True)
    assert not needs_protection("Mosul", first=True, proper=True)


def test_protect_title_braces_acronyms_and_known_proper_nouns_only():
    assert protect_title("The Endgame for IS? ASEAN, COVID-19 and Mosul") == (
        "The Endgame for {IS}? {ASEAN}, {COVID-19} and Mosul"
    )
    assert protect_title(
        "The Endgame in Southeast Asia and Mosul", proper_nouns=["Mosul", "southeast asia"]
    ) == ("The Endgame in {Southeast} {Asia} and {Mosul}")


NOUNS = ["Gulf of Guinea", "Guinea", "Guinea-Bissau", "Sea", "South China Sea", "İzmir", "Ḥamā"]


def _covered_one_noun_at_a_time(text: str, nouns: list[str]) -> set[int]:
    """The characters inside a known noun, found as the exporters first did (a pattern
    per noun): the oracle for the single compiled pattern."""
    covered: set[int] = set()
    for pattern in _one_pattern_per_noun(tuple(nouns)):
        for match in pattern.finditer(text):
            covered.update(range(*match.span()))
    return covered


@functools.cache
def _one_pattern_per_noun(nouns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(r"(?<![\w])" + re.escape(n) + r"(?![\w])", re.IGNORECASE) for n in nouns]


@given(st.lists(st.sampled_from([*NOUNS, "of", "the", "GUINEA", "china", "Seas", "-", " "])))
def test_one_pattern_finds_the_same_nouns_as_a_pattern_per_noun(words):
    text = " ".join(words).replace(" - ", "-")
    spans = _proper_spans(text, tuple(NOUNS), transliterate=False)
    covered = {i for start, end in spans for i in range(start, end)}
    assert covered == _covered_one_noun_at_a_time(text, NOUNS)


@pytest.mark.django_db
def test_with_the_shipped_vocabulary_one_pattern_finds_what_a_pattern_per_noun_finds():
    # The ~1,400 names the exporters are given. Real names bring what synthetic ones lack:
    # apostrophes, diacritics, parentheses, names inside longer names ("Sudan", "South
    # Sudan"), aliases.
    from library.catalogue.proper_nouns import catalogue_proper_nouns

    nouns = catalogue_proper_nouns()
    assert len(nouns) > 1000
    noun = st.sampled_from(nouns)
    word = st.one_of(
        noun, noun.map(str.upper), noun.map(str.lower), st.sampled_from(["of", "the", "and"])
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(word, min_size=1, max_size=6))
    def one_pattern_agrees(words: list[str]) -> None:
        text = " ".join(words)
        spans = _proper_spans(text, nouns, transliterate=False)
        covered = {i for start, end in spans for i in range(start, end)}
        assert covered == _covered_one_noun_at_a_time(text, list(nouns))

    one_pattern_agrees()


def test_the_vocabulary_pattern_is_compiled_once_for_many_titles():
    # A pattern per noun per title overflowed re's cache with the real vocabulary's ~1,400
    # names and recompiled every one of them for each title (1.4 s a BibTeX entry).
    vocabulary = tuple(f"Place Number {n}" for n in range(2_000))
    _noun_pattern.cache_clear()
    for n in range(50):
        title = f"Title {n} on Place Number {n * 7} and the Sea"
        assert "{Place} {Number}" in protect_title(title, vocabulary=vocabulary)
    assert _noun_pattern.cache_info().misses <= 2  # the vocabulary, the empty record tuple


def test_protect_title_decides_on_the_transliteration_bibtex_will_see():
    # anyascii writes 中国 as "ZhongGuo": an inner capital, so braced in the first export
    # already (else the re-imported ASCII would be braced in the second).
    assert protect_title("中国 today") == "{ZhongGuo} today"
    assert protect_title("中国 today", escape_specials) == "中国 today"


def test_protect_title_keeps_commands_whole_inside_the_braces():
    assert protect_title("Costs & Benefits of AT&T in Ḥamā", proper_nouns=["Ḥamā"]) == (
        r"Costs {\&} Benefits of {AT{\&}T} in {{\d{H}}am{\={a}}}"
    )


def test_protect_title_never_unbalances_braces_whatever_the_title():
    nasty = "{ } }{ {{ }} \\{ \\ ^ ~ Émile {Über} ÉTAT d'Ivoire “Quoted” (ASEAN)"
    for escape in (to_latex, escape_specials):
        assert braces_balanced(protect_title(nasty, escape))


def test_braces_balanced_counts_braces_as_bibtex_does_ignoring_backslashes():
    assert braces_balanced("{a}{b}")
    assert not braces_balanced(r"\{")
    assert not braces_balanced("}{")


def test_safe_url_keeps_url_characters_and_encodes_what_would_break_a_field():
    assert safe_url("https://x.org/a_b~c?d=1&e=2%20#f") == "https://x.org/a_b~c?d=1&e=2%20#f"
    assert safe_url("https://x.org/{a} b/é") == "https://x.org/%7Ba%7D%20b/%C3%A9"


def _characters() -> str:
    """Latin letters, punctuation and symbols a catalogue may hold, plus other scripts."""
    blocks = [(0xA0, 0x24F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF)]
    blocks += [(0x2100, 0x21FF), (0x2200, 0x220F), (0x2B0, 0x2FF)]
    chars = [
        chr(c)
        for lo, hi in blocks
        for c in range(lo, hi + 1)
        if unicodedata.category(chr(c)) not in ("Cn", "Cc", "Cf", "Mn", "Co", "Cs", "Zl", "Zp")
    ]
    return "".join(chars) + "Россия Ελλάδα 中国 العربية " + SPECIALS


def test_every_character_a_catalogue_may_hold_compiles_with_pdflatex(tmp_path):
    """The promise behind to_latex: no character stops a pdflatex run with T1 fonts."""
    need("pdflatex")
    text = _characters()
    lines = [f"{to_latex(text[i : i + 40])}\\par" for i in range(0, len(text), 40)]
    document = "\n".join(
        [
            r"\documentclass{article}\usepackage[T1]{fontenc}\usepackage[utf8]{inputenc}",
            r"\begin{document}",
            *lines,
            r"\end{document}",
        ]
    )
    (tmp_path / "doc.tex").write_text(document, encoding="ascii")
    result = pdflatex(tmp_path)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("! ")]
    assert result.returncode == 0, errors
    assert errors == []
    assert "Missing character" not in log
