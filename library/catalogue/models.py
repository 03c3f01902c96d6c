"""The catalogue: pieces, their authors, and the controlled vocabulary that tags them.

Fields are chosen for what citations need later (BibTeX, BibLaTeX, RIS, CSL-JSON): a
piece knows its type, its date and how precise that date is, its container (journal or
book), its series and number, and ordered contributors with roles.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

from anyascii import anyascii
from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.text import slugify

from library.catalogue.links import object_url
from library.text import display_name, join_title

CITATION_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_:.+-]{0,79}$"
_url_validator = URLValidator()


def validate_link(value: str) -> None:
    """A web URL, or a protocol-relative one (``//host/path``) as bibliographies write them.

    Only schemes a browser follows safely are accepted (``URLValidator``'s http, https,
    ftp, ftps); a protocol-relative link is checked as if it began with ``https:``.
    """
    _url_validator(f"https:{value}" if value.startswith("//") else value)


class LinkField(models.URLField):
    """``URLField`` that also accepts protocol-relative links (see :func:`validate_link`)."""

    default_validators = [validate_link]


citation_key_validator = RegexValidator(
    CITATION_KEY_PATTERN,
    "A citation key is 1–80 ASCII characters: a letter first, then letters, digits "
    "or _ : . + - (no spaces, braces, commas or accents).",
)


class PieceType(models.TextChoices):
    COMMENTARY = "commentary", "Commentary"
    ARTICLE = "article", "Journal article"
    REPORT = "report", "Report"
    POLICY_BRIEF = "policy_brief", "Policy brief"
    BOOK = "book", "Book"
    CHAPTER = "chapter", "Book chapter"
    WEB_ARTICLE = "web_article", "Web article"
    THESIS = "thesis", "Thesis"
    OTHER = "other", "Other"


class DatePrecision(models.TextChoices):
    YEAR = "year", "Year"
    MONTH = "month", "Year and month"
    DAY = "day", "Full date"


class Provenance(models.TextChoices):
    FORM = "form", "Entered in a form"
    PASTE = "paste", "Pasted commentary text"
    INGEST = "ingest", "Ingested from a file"
    DEMO = "demo", "Demo content"
    IMPORT = "import", "Imported citation"


class VocabularyTerm(models.Model):
    """A tag from a controlled vocabulary: a name, a slug, aliases and an optional parent."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    aliases = models.JSONField(
        default=list,
        blank=True,
        help_text="Other names that mean the same thing, e.g. ISIS, ISIL and Daesh.",
    )
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    if TYPE_CHECKING:  # Django gives every concrete subclass these; the stubs see an abstract model
        objects: ClassVar[models.Manager[Self]]
        parent_id: int | None

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[VocabularyTerm]:
        """Parents from the nearest up, stopping on a cycle rather than looping."""
        chain: list[VocabularyTerm] = []
        seen = {self.pk}
        node = self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class Topic(VocabularyTerm):
    def get_absolute_url(self) -> str:
        return object_url("catalogue:topic", self.slug)


class RegionKind(models.TextChoices):
    REGION = "region", "Region"
    COUNTRY = "country", "Country or territory"
    PLACE = "place", "Place"


class Region(VocabularyTerm):
    kind = models.CharField(max_length=10, choices=RegionKind.choices, default=RegionKind.REGION)
    iso_code = models.CharField(
        max_length=3, blank=True, help_text="ISO 3166-1 alpha-2 code, for countries."
    )

    def get_absolute_url(self) -> str:
        return object_url("catalogue:region", self.slug)


class AuthorKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"


class Author(models.Model):
    """A person (given, particle, family, suffix) or an organisation (``family`` holds its name)."""

    kind = models.CharField(max_length=12, choices=AuthorKind.choices, default=AuthorKind.PERSON)
    given = models.CharField("given names", max_length=200, blank=True)
    particle = models.CharField(max_length=50, blank=True, help_text="e.g. van, de, al-")
    family = models.CharField(
        "family name or organisation name", max_length=300, help_text="For organisations: the name."
    )
    suffix = models.CharField(max_length=50, blank=True, help_text="e.g. Jr., III")
    affiliation = models.CharField(max_length=500, blank=True)
    bio = models.TextField(blank=True)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["family", "given"]
        indexes = [
            models.Index(fields=["family", "given"]),
            # find_or_create_author matches names case-insensitively on every save and import.
            models.Index(
                Lower("family"), Lower("given"), Lower("particle"), F("kind"), name="author_name_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unique_slug(Author, self.display_name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return object_url("catalogue:author", self.slug)

    @property
    def is_organisation(self) -> bool:
        return self.kind == AuthorKind.ORGANISATION

    @property
    def display_name(self) -> str:
        """The name as written in a byline: ``Given particle Family, Suffix``."""
        return display_name(
            family=self.family,
            given=self.given,
            particle=self.particle,
            suffix=self.suffix,
            organisation=self.is_organisation,
        )

    @property
    def sort_name(self) -> str:
        """The name as listed in an index: ``Family, Given particle``."""
        if self.is_organisation:
            return self.family
        rest = " ".join(part for part in (self.given, self.particle) if part)
        name = f"{self.family}, {rest}" if rest else self.family
        return f"{name}, {self.suffix}" if self.suffix else name


def slug_base(text: str) -> str:
    """The slug ``text`` gets before any ``-2``, ``-3`` is appended (see :func:`unique_slug`)."""
    return slugify(anyascii(text), allow_unicode=False)[:180] or "item"


def unique_slug(model: type[models.Model], text: str, *, field: str = "slug") -> str:
    """A slug for ``text`` that no row of ``model`` uses yet (``-2``, ``-3``… appended).

    The text is transliterated first, so ``Wæver`` gives ``waever`` and Hebrew, Arabic or
    Chinese names stay readable instead of all becoming ``item``, ``item-2``…
    """
    base = slug_base(text)
    candidate, n = base, 1
    while model._default_manager.filter(**{field: candidate}).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclass(frozen=True)
class Section:
    """One part of a piece's body: an optional heading and its paragraphs."""

    heading: str
    paragraphs: tuple[str, ...]


HEADING_PREFIX = "## "


def split_body(body: str) -> list[Section]:
    """Split stored body text into sections.

    The stored form is plain text: paragraphs separated by blank lines, and a line that
    starts with ``## `` is a section heading. It reads well in a textarea and survives
    export, which a structured JSON body would not.
    """
    sections: list[Section] = []
    heading = ""
    paragraphs: list[str] = []
    for block in (b.strip() for b in body.replace("\r\n", "\n").split("\n\n")):
        if not block:
            continue
        lines = block.split("\n")
        while lines and lines[0].startswith(HEADING_PREFIX):
            if heading or paragraphs:
                sections.append(Section(heading, tuple(paragraphs)))
            heading, paragraphs = lines.pop(0)[len(HEADING_PREFIX) :].strip(), []
        if lines:
            paragraphs.append(" ".join(line.strip() for line in lines if line.strip()))
    if heading or paragraphs:
        sections.append(Section(heading, tuple(paragraphs)))
    return sections


def join_body(sections: list[Section]) -> str:
    """The inverse of :func:`split_body`."""
    blocks: list[str] = []
    for section in sections:
        if section.heading:
            blocks.append(HEADING_PREFIX + section.heading)
        blocks.extend(section.paragraphs)
    return "\n\n".join(blocks)


def attachment_path(instance: Piece, filename: str) -> str:
    """A server-chosen name: the uploader's file name never reaches the file system."""
    return f"attachments/{uuid.uuid4().hex}.pdf"


def related_lookups() -> tuple[models.Prefetch | str, ...]:
    """The prefetches of everything a list of pieces shows besides their own rows."""
    return (
        models.Prefetch(
            "authorships",
            queryset=Authorship.objects.select_related("author").order_by("position"),
        ),
        "topics",
        "regions",
    )


class PieceQuerySet(models.QuerySet):
    def with_related(self) -> PieceQuerySet:
        """Everything a list of pieces shows, in a fixed number of queries."""
        return self.prefetch_related(*related_lookups())


class Piece(models.Model):
    """A catalogued work: a commentary, article, report, book and so on."""

    type = models.CharField(max_length=20, choices=PieceType.choices, default=PieceType.COMMENTARY)
    title = models.CharField(max_length=500)
    subtitle = models.CharField(max_length=500, blank=True)
    citation_key = models.CharField(
        max_length=80,
        unique=True,
        validators=[citation_key_validator],
        help_text="Stable key for \\cite{…}; generated when left blank, never changed after.",
    )

    date = models.DateField(
        null=True,
        blank=True,
        help_text="With a year-only or year-month precision, the day and month are ignored.",
    )
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )

    publisher = models.CharField("publisher or institution", max_length=300, blank=True)
    place = models.CharField("place of publication", max_length=500, blank=True)
    series = models.CharField(max_length=300, blank=True, help_text="e.g. RSIS Commentaries")
    number = models.CharField(max_length=100, blank=True, help_text="e.g. 263/2016")
    container_title = models.CharField(
        "journal or book title", max_length=500, blank=True, help_text="For articles and chapters."
    )
    # Sized for real bibliographies: "2nd revised and enlarged edition", "xii + 345--367",
    # "Supplement 3 (Proceedings ...)": the TeX Live tree has values of 32 to 64 characters.
    volume = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=100, blank=True)
    pages = models.CharField(max_length=100, blank=True, help_text="e.g. 45–67")
    edition = models.CharField(max_length=100, blank=True)

    synopsis = models.TextField(blank=True)
    body = models.TextField(
        blank=True,
        help_text="Paragraphs separated by blank lines; a line starting with “## ” is a heading.",
    )
    url = LinkField("URL", max_length=1000, blank=True)
    accessed = models.DateField(
        "URL accessed",
        null=True,
        blank=True,
        help_text="When the URL was last checked (BibLaTeX urldate); online sources need it.",
    )
    doi = models.CharField("DOI", max_length=200, blank=True)
    # Blank when the source does not say: an import must not invent English.
    language = models.CharField(
        max_length=20, default="en", blank=True, help_text="BCP 47 code, e.g. en, fr."
    )
    keywords = models.JSONField(default=list, blank=True)
    # Machine suggestions (YAKE at ingest) wait here until an editor accepts them: they are not
    # the piece's keywords, so exports, search and the piece page never show them.
    suggested_keywords = models.JSONField(default=list, blank=True, editable=False)
    note = models.TextField(
        blank=True, help_text="Anything a citation should add, e.g. “Translated from Arabic.”"
    )

    topics = models.ManyToManyField(Topic, blank=True, related_name="pieces")
    regions = models.ManyToManyField(Region, blank=True, related_name="pieces")
    contributors = models.ManyToManyField(Author, through="Authorship", related_name="pieces")

    provenance = models.CharField(
        max_length=10, choices=Provenance.choices, default=Provenance.FORM, editable=False
    )
    source_file = models.CharField(max_length=500, blank=True, editable=False)
    source_hash = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text="SHA-256 of the normalised source text, to recognise a re-ingest.",
    )
    attachment = models.FileField(
        upload_to=attachment_path,
        max_length=200,
        blank=True,
        editable=False,
        help_text="The PDF the piece was ingested from, stored under a generated name.",
    )
    attachment_sha256 = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text="SHA-256 of the attached file, to recognise the same file uploaded again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Bumped on every edit; a form built on an older version is refused "
        "(see library/catalogue/concurrency.py).",
    )

    objects = PieceQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "title"]
        indexes = [
            models.Index(fields=["date"]),
            models.Index(fields=["type"]),
            # The home page's "newest pieces" sorts on it; without an index, a full sort.
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return self.full_title

    def save(self, *args, **kwargs) -> None:
        self.normalise_date()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return object_url("catalogue:piece", self.citation_key)

    @property
    def full_title(self) -> str:
        return join_title(self.title, self.subtitle)

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    @property
    def display_date(self) -> str:
        """The date at its own precision: ``2016``, ``October 2016`` or ``28 October 2016``."""
        if not self.date:
            return "n.d."
        if self.date_precision == DatePrecision.YEAR:
            return str(self.date.year)
        if self.date_precision == DatePrecision.MONTH:
            return self.date.strftime("%B %Y")
        return f"{self.date.day} {self.date.strftime('%B %Y')}"

    @property
    def sections(self) -> list[Section]:
        return split_body(self.body)

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections if s.heading]

    def ordered_authorships(self, role: str | None = None) -> list[Authorship]:
        """Authorships in byline order; uses the prefetch cache when there is one."""
        rows = sorted(self.authorships.all(), key=lambda a: a.position)
        return [a for a in rows if role is None or a.role == role]

    @property
    def authors(self) -> list[Author]:
        return [a.author for a in self.ordered_authorships(Role.AUTHOR)]

    @property
    def editors(self) -> list[Author]:
        return [a.author for a in self.ordered_authorships(Role.EDITOR)]

    def normalise_date(self) -> None:
        """Store imprecise dates on the first day of their month or year."""
        if self.date is None:
            return
        if self.date_precision == DatePrecision.YEAR:
            self.date = datetime.date(self.date.year, 1, 1)
        elif self.date_precision == DatePrecision.MONTH:
            self.date = self.date.replace(day=1)


class Role(models.TextChoices):
    AUTHOR = "author", "Author"
    EDITOR = "editor", "Editor"


class Authorship(models.Model):
    """An author's or editor's place in a piece's byline."""

    piece = models.ForeignKey(Piece, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="authorships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AUTHOR)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["piece", "role", "position"]
        indexes = [
            # Covers the author facet and the home page's author tally (authors' pieces
            # counted on this table alone): 26 -> 9 ms at 10,000 pieces on SQLite, which
            # otherwise walked the author_id index and read every row for its role.
            models.Index(fields=["role", "author", "piece"], name="authorship_role_author"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["piece", "author", "role"], name="one_role_per_author_per_piece"
            )
        ]

    def __str__(self) -> str:
        return f"{self.author} ({self.get_role_display()}) in {self.piece}"


class CatalogueChange(models.Model):
    """One row per committed PostgreSQL transaction that wrote the catalogue.

    Database triggers insert it (migration 0009), in the writer's own transaction, for any
    statement on the piece, byline, author and vocabulary tables, whoever issues it: the
    ORM, a bulk command or raw SQL. Page caches key on how many rows there are
    (:mod:`library.catalogue.generation`). Rows are only ever inserted, never updated, so
    writers never wait for one another here; ``txid`` keeps it to one row per transaction.
    """

    txid = models.BigIntegerField(unique=True, null=True)

    def __str__(self) -> str:
        return f"change {self.pk} (transaction {self.txid})"


class CatalogueEpoch(models.Model):
    """The one row naming the current run of :class:`CatalogueChange` rows.

    ``token`` is random and changes whenever change rows are deleted (pruning) or the row
    is made again (a flushed database), so a cache key from before can never come back.
    On SQLite, whose writers take turns anyway, triggers count writes in ``writes``
    instead of inserting change rows.
    """

    token = models.CharField(max_length=32)
    writes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"epoch {self.token[:8]} ({self.writes} writes)"


class FormattedCitation(models.Model):
    """A citation record formatted in one style, stored so citeproc runs once per version.

    Keyed by a digest of the style and the whole record, so an edited piece (or a renamed
    author) gives a new key and a stale text can never be shown; rows of an edited piece
    are deleted with the edit (``piece_id``), and formatted again on first need.
    """

    digest = models.CharField(max_length=64, unique=True)
    style = models.CharField(max_length=200)  # a CSL style id (any bundled style)
    # A plain column, not a foreign key: a deleted piece's snapshot may still be cited.
    piece_id = models.IntegerField(null=True, blank=True, db_index=True)
    html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.style} {self.digest[:12]}"
