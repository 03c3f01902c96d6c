"""An import writes its new pieces in bulk with the results one ``save_piece`` each would give.

Authors are found by kind and name ignoring case (accented capitals too), a new name gets
one row and a slug no author has, a name repeated in a byline is kept once, and every new
piece is in the search index, inside the import's transaction.
"""

from __future__ import annotations

import pytest

from library.catalogue.models import Author, Piece
from library.imports.service import apply_plan, plan_import
from library.search import service as search

pytestmark = pytest.mark.django_db


def bib(text: str) -> tuple[str, bytes]:
    return "refs.bib", text.encode("utf-8")


def test_existing_authors_are_found_by_name_ignoring_case(make_piece):
    make_piece("Earlier work", authors=("Ó Súilleabháin, Siobhán",), citation_key="earlier2015")
    before = Author.objects.count()
    plan = plan_import(
        [
            bib(
                "@book{a2020, author={{\\'{O}} S{\\'u}illeabh{\\'a}in, Siobh{\\'a}n}, "
                "title={Later work}, year=2020}\n"
                "@book{b2021, author={Ó SÚILLEABHÁIN, SIOBHÁN and Doe, Jane and Doe, Jane}, "
                "title={Latest work}, year=2021}\n"
                "@book{c2022, author={Doe, Jane}, title={Another}, year=2022}\n"
            )
        ]
    )
    apply_plan(plan)
    assert Author.objects.count() == before + 1  # Jane Doe, once
    siobhan = Author.objects.get(family="Ó Súilleabháin")
    assert set(siobhan.pieces.values_list("citation_key", flat=True)) == {
        "earlier2015",
        "a2020",
        "b2021",
    }
    latest = Piece.objects.get(citation_key="b2021")
    assert [a.family for a in latest.authors] == ["Ó Súilleabháin", "Doe"]


def test_a_new_author_gets_a_slug_no_author_has(make_piece):
    make_piece("Earlier work", authors=("Jane Doe",), citation_key="earlier2015")
    taken = Author.objects.get().slug
    plan = plan_import([bib("@book{a2020, author={{Jane Doe}}, title={Work}, year=2020}\n")])
    apply_plan(plan)
    organisation = Author.objects.get(kind="organisation")
    assert organisation.slug != taken
    assert organisation.slug.startswith(taken)


def test_imported_pieces_are_found_by_search():
    entries = "".join(
        f"@article{{k{n}, author={{Basit, Abdul}}, title={{Maritime piracy in the {sea}}}, "
        f"journal={{Security Dialogue}}, year=2016}}\n"
        for n, sea in enumerate(("Sulu Sea", "Strait of Malacca", "Gulf of Aden"))
    )
    plan = plan_import([bib(entries)])
    assert plan.count("create") == 3
    apply_plan(plan)
    found = search.search("maritime piracy basit")
    assert found.total == 3


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_imported_pieces_are_queued_for_their_cite_box_texts():
    # Bulk-created pieces send no post_save: the import queues them itself, in its
    # transaction, so their first views read stored texts once the worker has run.
    from django.core.management import call_command

    from library.catalogue.citation_store import digest
    from library.catalogue.models import FormattedCitation
    from library.citations.from_piece import record_from_piece

    entries = "".join(
        f"@book{{b{n}, author={{Basit, Abdul}}, title={{Book {n}}}, publisher={{P}}, year=2016}}\n"
        for n in range(3)
    )
    apply_plan(plan_import([bib(entries)]))
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    for piece in Piece.objects.with_related().filter(citation_key__startswith="b"):
        record = record_from_piece(piece)
        assert FormattedCitation.objects.filter(digest=digest(record, "apa")).exists()
