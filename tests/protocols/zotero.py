"""What Zotero's "Embedded Metadata" translator makes of a page's meta tags.

A transcription of the parts of the translator (zotero/translators, Embedded Metadata.js:
HIGHWIRE_MAPPINGS, init's item-type switch, processHighwireCreators, the page range and
PDF handling; RDF.js's dc:type rule) that apply to the tags Dossier writes, so the tests
assert the item a researcher would get, not only that tags are present.
"""

from __future__ import annotations

HIGHWIRE_MAPPINGS = {
    "citation_title": "title",
    "citation_publication_date": "date",
    "citation_date": "date",
    "citation_journal_title": "publicationTitle",
    "citation_inbook_title": "publicationTitle",
    "citation_book_title": "bookTitle",
    "citation_volume": "volume",
    "citation_issue": "issue",
    "citation_series_title": "series",
    "citation_dissertation_institution": "university",
    "citation_technical_report_institution": "institution",
    "citation_technical_report_number": "number",
    "citation_publisher": "publisher",
    "citation_doi": "DOI",
    "citation_language": "language",
}
HIGHWIRE_TYPES = {
    "citation_journal_title": "journalArticle",
    "citation_technical_report_institution": "report",
    "citation_conference_title": "conferencePaper",
    "citation_conference": "conferencePaper",
    "citation_book_title": "bookSection",
    "citation_inbook_title": "bookSection",
    "citation_dissertation_institution": "thesis",
}
GUESSES = {"citation_title": "journalArticle", "citation_series_title": "journalArticle"}
# A subset of Zotero's item types: the ones a DC.type value could name here.
ITEM_TYPES = {
    "book", "bookSection", "document", "journalArticle", "report", "thesis", "webpage",
    "magazineArticle", "newspaperArticle", "blogPost", "conferencePaper",
}  # fmt: skip


def item_type(ordered: list[tuple[str, str]]) -> str:
    """The Highwire type (the last type tag wins), else ``DC.type``, else the guess."""
    hw_type = guess = ""
    for name, _ in ordered:
        hw_type = HIGHWIRE_TYPES.get(name, hw_type)
        guess = guess or GUESSES.get(name, "")
    if hw_type:
        return hw_type
    dc_types = [value for name, value in ordered if name.lower() == "dc.type"]
    if dc_types and dc_types[0] in ITEM_TYPES:
        return dc_types[0]
    return guess or "webpage"


def clean_author(name: str) -> dict[str, str]:
    """ZU.cleanAuthor: "Last, First" splits at the comma, "First Last" at the last space."""
    if "," in name:
        last, _, first = name.partition(",")
        return {"lastName": last.strip(), "firstName": first.strip()}
    first, _, last = name.rpartition(" ")
    return {"lastName": last, "firstName": first}


def creators(values: list[str]) -> list[dict[str, str]]:
    """processHighwireCreators: one tag per author, or a lone tag split at ";" or ", "."""
    names: list[str] = []
    for value in values:
        parts = [p.strip() for p in value.split(";")]
        if len(parts) == 1 and len(values) == 1:
            by_comma = [p.strip() for p in parts[0].split(",")]
            if len(by_comma) > 1 and " " in by_comma[0] and " " in by_comma[1]:
                parts = by_comma
        # The translator skips empty names (nothing but spaces and , - . ;).
        names.extend(p for p in parts if p.strip(" ,-.;"))
    return [clean_author(name) for name in names]


def zotero_item(ordered: list[tuple[str, str]]) -> dict:
    """The item Zotero saves from ``(name, content)`` meta pairs in document order."""
    first: dict[str, str] = {}
    for name, value in ordered:
        first.setdefault(name, value)
    item: dict = {"itemType": item_type(ordered)}
    for tag, field in HIGHWIRE_MAPPINGS.items():
        if first.get(tag, "").strip():
            item[field] = " ".join(first[tag].split())
    item["creators"] = creators([v for n, v in ordered if n == "citation_author"])
    firstpage, lastpage = first.get("citation_firstpage"), first.get("citation_lastpage")
    if firstpage:
        item["pages"] = firstpage + (f"-{lastpage}" if lastpage else "")
    item["url"] = first.get("citation_public_url") or first.get("citation_abstract_html_url")
    if "citation_pdf_url" in first:
        item["attachments"] = [{"title": "Full Text PDF", "url": first["citation_pdf_url"]}]
    else:
        item["attachments"] = [{"title": "Snapshot"}]
    abstract = [v for n, v in ordered if n.lower() == "dc.description"]
    if abstract:
        item["abstractNote"] = abstract[0]
    return item
