"""Duplicates by evidence, on entries from real files (TeX Live's test and example bibliographies).

A shared DOI or URL is strong evidence only with a title alike and a year that agrees;
numbered parts and volumes are different works; a URL's fragment is part of it; and the
reason given says what agreed. Skipping a work that is not a duplicate loses it, so any
evidence against (different pages, issue, volume, first author, a chapter against its
book) keeps the entry.
"""

from __future__ import annotations

import datetime

import pytest

from library.catalogue.duplicates import part_numbers
from library.imports.service import plan_import

pytestmark = pytest.mark.django_db


def outcomes(text: str):
    return plan_import([("refs.bib", text.encode("utf-8"))]).files[0].outcomes


# biblatex-apa's test references (APA 7th ed. examples 10.2:34 and 10.3:46): a chapter and
# the edited book that holds it, with the book's DOI on both.
BOOK_AND_CHAPTER = r"""
@COLLECTION{10.2:34,
  EDITOR         = {M. Gold},
  TITLE          = {The Complete Social Scientist},
  SUBTITLE       = {A {Kurt} {Lewin} Reader},
  PUBLISHER      = {American Psychological Association},
  DATE           = {1999},
  DOI            = {10.1037/10319-000}
}
@INCOLLECTION{10.3:46,
  AUTHOR         = {K. Lewin},
  EDITOR         = {M. Gold},
  TITLE          = {Group Decision and Social Change},
  BOOKTITLE      = {The Complete Social Scientist},
  BOOKSUBTITLE   = {A {Kurt} {Lewin} Reader},
  PUBLISHER      = {American Psychological Association},
  PAGES          = {265--284},
  DATE           = 1999,
  ORIGDATE       = 1948,
  DOI            = {10.1037/10319-000}
}
"""


def test_a_chapter_is_not_the_book_whose_doi_it_shares():
    book, chapter = outcomes(BOOK_AND_CHAPTER)
    assert (book.status, chapter.status) == ("create", "create")


def test_a_shared_doi_with_the_same_title_is_a_duplicate_and_says_why(make_piece):
    make_piece(
        "The Complete Social Scientist",
        authors=("Gold, M.",),
        subtitle="A Kurt Lewin Reader",
        doi="10.1037/10319-000",
        date=datetime.date(1999, 1, 1),
        type="book",
    )
    book, chapter = outcomes(BOOK_AND_CHAPTER)
    assert book.status == "duplicate"
    assert book.reason == "same DOI 10.1037/10319-000, title identical, same year"
    assert chapter.status == "create"


# Beebe's tugboat.bib: every issue has its "Calendar" by "Anonymous"; two in 2008.
CALENDARS = """
@Article{Anonymous:TB29-2-346,
  author =       "Anonymous",
  title =        "Calendar",
  journal =      "TUGboat",
  volume =       "29",
  number =       "2",
  pages =        "346--346",
  year =         "2008",
  URL =          "https://tug.org/TUGboat/tb29-2/tb92calendar.pdf",
}
@Article{Anonymous:TB29-3-485,
  author =       "Anonymous",
  title =        "Calendar",
  journal =      "TUGboat",
  volume =       "29",
  number =       "3",
  pages =        "485--485",
  year =         "2008",
  URL =          "https://tug.org/TUGboat/tb29-3/tb93calendar.pdf",
}
"""


def test_the_same_title_in_two_issues_is_two_pieces():
    assert [o.status for o in outcomes(CALENDARS)] == ["create", "create"]


def test_numbered_volumes_by_one_author_in_one_year_are_different_works():
    # zootaxa-bst's example-refs.bib (pages left out: the titles alone must tell them apart).
    text = "".join(
        f"@book{{Agassiz1833{n}, author = {{Agassiz, Louis}}, "
        f"title = {{{{Recherches sur les Poissons Fossiles. Tome {n}}}}}, year = {{1833}}}}\n"
        for n in ("I", "II", "IV")
    )
    assert [o.status for o in outcomes(text)] == ["create", "create", "create"]


def test_numbered_parts_are_different_works_and_the_same_part_is_a_duplicate():
    text = "".join(
        f"@misc{{p{n}, author={{Basit, Abdul}}, year=2016, "
        f"title={{The Islamic State in Southeast Asia: {part}}}}}\n"
        for n, part in enumerate(("Part 1", "Part 2", "Part Two", "Part II", "Part 3"))
    )
    assert [o.status for o in outcomes(text)] == [
        "create",
        "create",
        "duplicate",  # Part Two is Part 2
        "duplicate",  # and so is Part II
        "create",
    ]


@pytest.mark.parametrize(
    ("title", "numbers"),
    [
        ("Recherches sur les Poissons Fossiles. Tome IV", (4,)),
        ("Volume II", (2,)),
        ("Vol. 2", (2,)),
        ("part ii", (2,)),
        ("Part Three", (3,)),
        ("Strategy and Tactics (III)", (3,)),
        ("Policy mix and the Mosul operation", ()),
        ("POLICY MIX", ()),
        ("COVID-19 in 2020", (19, 2020)),
    ],
)
def test_part_numbers(title, numbers):
    assert part_numbers(title) == numbers


def test_a_url_fragment_is_part_of_the_url():
    text = "".join(
        f"@misc{{c{page}, author={{Doe, Jane}}, year=2019, title={{Maritime security report}}, "
        f"url={{https://example.org/report.pdf#page={page}}}}}\n"
        for page in (12, 40)
    )
    assert [o.status for o in outcomes(text)] == ["create", "create"]


def test_a_reply_under_a_blog_post_is_not_the_post():
    # biblatex-apa6's test references (APA 6th ed. examples 7.11:76a and 76b).
    text = r"""
@ONLINE{7.11:76a,
  AUTHOR         = {{PZ Myers}},
  TITLE          = {The Unfortunate Prerequisites and Consequences of Partitioning Your Mind},
  DATE           = {2007-01-22},
  URL            = {http://scienceblogs.com/pharyngula/2007/01/the_unfortunate_prerequisites.php},
}
@ONLINE{7.11:76b,
  AUTHOR         = {MiddleKid},
  TITLE          = {Re: {T}he Unfortunate Prerequisites and Consequences of Partitioning Your Mind},
  DATE           = {2007-01-22},
  URL            = {http://scienceblogs.com/pharyngula/2007/01/the_unfortunate_prerequisites.php},
}
"""
    assert [o.status for o in outcomes(text)] == ["create", "create"]


def test_two_organisations_with_the_same_initials_are_two_authors():
    # apacite's apa5ex.bib: the chess and the skating federations' annual reports.
    text = "".join(
        f"@book{{{key}, author = {{{{Koninklijke Nederlandse {name}}}}}, year = {{2003}}, "
        f"title = {{Jaarverslag 2002}}, address = {{Amsterdam}}}}\n"
        for key, name in (("3.96-3", "Schaakbond"), ("3.96-5", "Schaatsbond"))
    )
    assert [o.status for o in outcomes(text)] == ["create", "create"]


def test_a_title_alone_is_no_evidence():
    # archaeologie's bibancient: the letters of Aeschines and of Ambrose, neither with an
    # author or a year in the fields an import reads.
    text = (
        "@book{Aischin:epist, title = {epistulae}, shortauthor = {Aischines}}\n"
        "@book{Ambr:epist, title = {epistulae}, shortauthor = {Ambrosius}}\n"
    )
    assert [o.status for o in outcomes(text)] == ["create", "create"]


def test_an_arxiv_preprint_and_its_article_with_the_same_url_are_one_work():
    # biblatex's biblatex-examples.bib (baez/article and baez/online).
    text = r"""
@article{baez/article,
  author       = {Baez, John C. and Lauda, Aaron D.},
  title        = {Higher-Dimensional Algebra {V}: 2-Groups},
  journaltitle = {Theory and Applications of Categories},
  date         = 2004,
  volume       = 12,
  pages        = {423-491},
  url          = {https://arxiv.org/abs/math/0307200v3},
}
@online{baez/online,
  author       = {Baez, John C. and Lauda, Aaron D.},
  title        = {Higher-Dimensional Algebra {V}: 2-Groups},
  date         = {2004-10-27},
  url          = {https://arxiv.org/abs/math/0307200v3},
}
"""
    article, online = outcomes(text)
    assert (article.status, online.status) == ("create", "duplicate")
    assert online.reason == (
        "same URL https://arxiv.org/abs/math/0307200v3, title identical, same year "
        "as an earlier entry in this file"
    )
