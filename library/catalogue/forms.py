"""Editor forms. Authors and tags are typed as text so the forms work without JavaScript."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from library.catalogue import concurrency
from library.catalogue.authors import AuthorSpec, format_name_for_editing, parse_name
from library.catalogue.models import Piece, Region, Role, Topic
from library.catalogue.services import (
    PieceContributors,
    PieceTags,
    citation_key_is_free,
    format_partial_date,
    parse_partial_date,
    save_piece,
)
from library.catalogue.vocabulary import resolve_terms

AUTHOR_HELP = (
    "One per line, as “Given Family” or “Family, Given”. Wrap an organisation in braces: "
    "{International Crisis Group}. Add an affiliation after a bar: Abdul Basit | RSIS."
)


def parse_name_lines(text: str) -> list[AuthorSpec]:
    """Each non-blank line is a name, optionally followed by ``| affiliation``."""
    specs: list[AuthorSpec] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, affiliation = line.partition("|")
        try:
            specs.append(parse_name(name, affiliation=affiliation.strip()))
        except ValueError as exc:
            errors.append(f"Line {number}: {exc}.")
    if errors:
        raise ValidationError(errors)
    return specs


def format_name_lines(piece: Piece, role: str) -> str:
    rows = piece.ordered_authorships(role)
    return "\n".join(format_name_for_editing(row.author) for row in rows)


def split_labels(text: str) -> list[str]:
    """Comma- or line-separated labels, stripped, blanks dropped."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class PieceForm(forms.ModelForm):
    """Create or edit a piece; authors, editors, tags and the date are typed as text."""

    authors_text = forms.CharField(
        label="Authors",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=AUTHOR_HELP,
    )
    editors_text = forms.CharField(
        label="Editors",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For edited books and chapters; same form as authors.",
    )
    date_text = forms.CharField(
        label="Date",
        required=False,
        max_length=10,
        help_text="2016, 2016-10 or 2016-10-28: as precise as you know it.",
    )
    topics_text = forms.CharField(
        label="Topics",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            "Comma-separated names, slugs or aliases (ISIL, Daesh and IS all mean Islamic State)."
        ),
    )
    regions_text = forms.CharField(
        label="Regions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Comma-separated regions, countries or places.",
    )
    keywords_text = forms.CharField(
        label="Keywords", required=False, help_text="Free keywords, comma-separated."
    )

    class Meta:
        model = Piece
        fields = [
            "type",
            "title",
            "subtitle",
            "synopsis",
            "body",
            "publisher",
            "place",
            "series",
            "number",
            "container_title",
            "volume",
            "issue",
            "pages",
            "edition",
            "url",
            "accessed",
            "doi",
            "language",
            "note",
            "citation_key",
        ]
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}
        widgets = {
            "synopsis": forms.Textarea(attrs={"rows": 4}),
            "body": forms.Textarea(attrs={"rows": 16}),
            "accessed": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["citation_key"].required = False
        self.fields["accessed"].help_text = (
            "When the URL was last checked (BibLaTeX urldate). Left blank, a new or changed "
            "URL is recorded as checked today."
        )
        self.order_fields(
            ["type", "title", "subtitle", "authors_text", "editors_text", "date_text"]
        )
        piece = self.instance
        if piece.pk:
            self.initial.setdefault("authors_text", format_name_lines(piece, Role.AUTHOR))
            self.initial.setdefault("editors_text", format_name_lines(piece, Role.EDITOR))
            self.initial.setdefault(
                "date_text", format_partial_date(piece.date, piece.date_precision)
            )
            self.initial.setdefault("topics_text", ", ".join(t.name for t in piece.topics.all()))
            self.initial.setdefault("regions_text", ", ".join(r.name for r in piece.regions.all()))
            self.initial.setdefault("keywords_text", ", ".join(piece.keywords))
            if piece.suggested_keywords:
                self.fields["accept_suggested_keywords"] = forms.MultipleChoiceField(
                    label="Suggested keywords",
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    choices=[(k, k) for k in piece.suggested_keywords],
                    help_text="Suggested by the machine at ingest; tick those to keep as "
                    "keywords. Unticked ones stay suggestions and are never exported.",
                )
                names = [name for name in self.fields if name != "accept_suggested_keywords"]
                at = names.index("keywords_text") + 1
                self.order_fields([*names[:at], "accept_suggested_keywords", *names[at:]])
            # Last, so the fingerprint covers every field's initial value.
            concurrency.add_version_fields(self, piece)
        else:
            self.fields[
                "citation_key"
            ].help_text = "Leave blank to generate one such as basit2016mosul."

    def clean_authors_text(self) -> list[AuthorSpec]:
        return parse_name_lines(self.cleaned_data["authors_text"])

    def clean_editors_text(self) -> list[AuthorSpec]:
        return parse_name_lines(self.cleaned_data["editors_text"])

    def clean_date_text(self):
        try:
            return parse_partial_date(self.cleaned_data["date_text"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _clean_terms(self, field: str, model) -> list:
        terms, unknown = resolve_terms(model, split_labels(self.cleaned_data[field]))
        if unknown:
            noun = "topic" if model is Topic else "region"
            raise ValidationError(
                f"Unknown {noun}{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"Use names from the {noun} list."
            )
        return terms

    def clean_topics_text(self) -> list[Topic]:
        return self._clean_terms("topics_text", Topic)

    def clean_regions_text(self) -> list[Region]:
        return self._clean_terms("regions_text", Region)

    def clean_keywords_text(self) -> list[str]:
        return split_labels(self.cleaned_data["keywords_text"])

    def clean_citation_key(self) -> str:
        key = self.cleaned_data.get("citation_key", "").strip()
        if key and not citation_key_is_free(key, exclude=self.instance):
            raise ValidationError(f"The citation key {key!r} is already used by another piece.")
        return key

    def clean(self) -> dict[str, Any]:
        """A new or changed URL with no access date was checked today, by the editor."""
        super().clean()  # a ModelForm's clean() returns its cleaned_data
        data = self.cleaned_data
        url_changed = "url" in self.changed_data or not self.instance.pk
        if data.get("url") and not data.get("accessed") and url_changed:
            data["accessed"] = timezone.localdate()
        return data

    def _post_clean(self) -> None:
        # The date arrives as one text field; set both model fields before model validation.
        date_value = self.cleaned_data.get("date_text")
        if date_value is not None:
            self.instance.date, self.instance.date_precision = date_value
        super()._post_clean()  # type: ignore[misc]  # the stubs leave out this private hook

    def save(self, commit: bool = True) -> Piece:
        """Save through ``services.save_piece`` so forms and commands write alike."""
        if not commit:
            raise ValueError("PieceForm always saves its byline and tags; use commit=True.")
        return save_piece(
            *self.piece_byline_and_tags(),
            expected_version=self.cleaned_data.get(concurrency.VERSION_FIELD),
        )

    def piece_byline_and_tags(self) -> tuple[Piece, PieceContributors, PieceTags]:
        """The unsaved piece and what ``save_piece`` needs with it, for a caller that adds
        to the piece before saving (the upload page records where it came from)."""
        piece = super().save(commit=False)
        data = self.cleaned_data
        accepted = data.get("accept_suggested_keywords") or []
        if accepted:
            data["keywords_text"] = list(dict.fromkeys([*data["keywords_text"], *accepted]))
        piece.suggested_keywords = [
            k for k in piece.suggested_keywords if k not in data["keywords_text"]
        ]
        return (
            piece,
            PieceContributors(authors=data["authors_text"], editors=data["editors_text"]),
            PieceTags(
                topics=data["topics_text"],
                regions=data["regions_text"],
                keywords=data["keywords_text"],
            ),
        )

    def rebased(self, error: concurrency.StalePiece) -> PieceForm:
        """After a refused save: this form rebuilt on the piece as it is saved now."""
        current = Piece.objects.get(pk=self.instance.pk)
        return concurrency.rebase(self, type(self)(instance=current), error)


class PasteForm(forms.Form):
    """Step one of adding a commentary: paste the text, get a filled-in form back."""

    text = forms.CharField(
        label="Commentary text",
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="Paste the whole commentary: title, byline, synopsis and body.",
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        limit = settings.DOSSIER_MAX_INGEST_BYTES
        if len(text.encode("utf-8")) > limit:
            raise ValidationError(
                f"The text is {len(text.encode('utf-8')):,} bytes; the limit is {limit:,} bytes."
            )
        return text
