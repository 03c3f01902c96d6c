"""OAI-PMH 2.0 (https://www.openarchives.org/OAI/openarchivesprotocol.html) at ``/oai/``.

Library harvesters collect the catalogue in Dublin Core (``oai_dc``). Sets are the
vocabulary: ``topic`` and ``region``, each with a set per term (``topic:terrorism``).
Lists come in pages of :data:`PAGE_SIZE`; the resumption token is the request itself plus
the last primary key sent, signed so that a harvester cannot forge one and the server
keeps no state. Pieces are never soft-deleted, so ``deletedRecord`` is ``no``.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree

from library.catalogue.models import Piece, PieceQuerySet, Region, Topic
from library.protocols.dates import iso_date
from library.protocols.embedded import keywords_of
from library.protocols.xmltext import xml_safe

PAGE_SIZE = 100
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_SALT = "library.protocols.oai.resumption"
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS),
}
SET_KINDS: dict[str, tuple[type[Topic] | type[Region], str]] = {
    "topic": (Topic, "topics__slug"),
    "region": (Region, "regions__slug"),
}

# Arguments each verb takes: (required, optional, exclusive).
VERBS: dict[str, tuple[frozenset, frozenset, str]] = {
    "Identify": (frozenset(), frozenset(), ""),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), ""),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), ""),
}


class OAIError(Exception):
    """An OAI-PMH error condition: ``code`` is the protocol's, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ListRequest:
    """A list request as the resumption token carries it between pages."""

    verb: str
    prefix: str
    set: str = ""
    start: str = ""  # from
    until: str = ""
    after: int = 0  # last primary key sent
    cursor: int = 0  # records sent before this page


# --- helpers --------------------------------------------------------------------------------


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str = "", ns: str = OAI_NS, **attrs):
    element = etree.SubElement(parent, _q(ns, tag), attrs)
    if text:
        element.text = xml_safe(text)
    return element


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _host(request: HttpRequest) -> str:
    """The namespace part of identifiers: the repository's host name, without a port."""
    return getattr(settings, "OAI_REPOSITORY_IDENTIFIER", "") or request.get_host().split(":")[0]


def identifier(request: HttpRequest, piece: Piece) -> str:
    return f"oai:{_host(request)}:{piece.citation_key}"


def _piece_for(request: HttpRequest, oai_id: str) -> Piece:
    prefix = f"oai:{_host(request)}:"
    piece = None
    if oai_id.startswith(prefix):
        key = oai_id[len(prefix) :].replace("\x00", "")[:80]
        piece = Piece.objects.with_related().filter(citation_key=key).first()
    if piece is None:
        raise OAIError("idDoesNotExist", f"No record has the identifier {oai_id!r}.")
    return piece


def _parse_stamp(text: str, *, end: bool) -> tuple[datetime.datetime, str]:
    """A ``from``/``until`` value and its granularity; ``until`` a day means its end."""
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            moment = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
            if end:
                moment += datetime.timedelta(days=1) - datetime.timedelta(microseconds=1)
            return moment, "day"
        if len(text) == 20 and text.endswith("Z") and text[10] == "T":
            moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
            moment = moment.replace(tzinfo=datetime.UTC)
            if end:
                moment += datetime.timedelta(seconds=1) - datetime.timedelta(microseconds=1)
            return moment, "seconds"
    except ValueError:
        pass
    raise OAIError("badArgument", f"{text!r} is not a UTC date or datetime ({GRANULARITY}).")


def _arguments(request: HttpRequest) -> tuple[str, dict[str, str]]:
    """The verb and its arguments; a repeated or unknown argument is an error."""
    data = request.POST if request.method == "POST" else request.GET
    values = {}
    for name, items in data.lists():
        if len(items) > 1:
            if name == "verb":
                raise OAIError("badVerb", "The verb argument is repeated.")
            raise OAIError("badArgument", f"The argument {name} is repeated.")
        values[name] = items[0]
    verb = values.pop("verb", None)
    if verb is None:
        raise OAIError("badVerb", "No verb was given.")
    if verb not in VERBS:
        raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb.")
    required, optional, exclusive = VERBS[verb]
    given = set(values)
    if exclusive and exclusive in given:
        if given != {exclusive}:
            raise OAIError("badArgument", f"{exclusive} must be the only argument.")
        return verb, values
    unknown = given - required - optional
    if unknown:
        raise OAIError("badArgument", f"{verb} takes no argument {sorted(unknown)[0]}.")
    missing = required - given
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument {sorted(missing)[0]}.")
    return verb, values


# --- verbs ----------------------------------------------------------------------------------


def _identify(request: HttpRequest, root, values) -> None:
    node = _sub(root, "Identify")
    _sub(node, "repositoryName", "Dossier")
    _sub(node, "baseURL", request.build_absolute_uri(reverse("protocols:oai")))
    _sub(node, "protocolVersion", "2.0")
    # Django 5.2 takes (name, address) pairs; its stubs also allow 6.0's bare addresses.
    admins = [entry if isinstance(entry, str) else entry[1] for entry in settings.ADMINS]
    for email in admins or [settings.DEFAULT_FROM_EMAIL]:
        _sub(node, "adminEmail", email)
    earliest = Piece.objects.aggregate(m=Min("updated_at"))["m"] or timezone.now()
    _sub(node, "earliestDatestamp", _stamp(earliest))
    _sub(node, "deletedRecord", "no")
    _sub(node, "granularity", GRANULARITY)
    description = _sub(node, "description")
    oai_id = etree.SubElement(
        description,
        _q(ID_NS, "oai-identifier"),
        nsmap={None: ID_NS},
        attrib={
            _q(XSI_NS, "schemaLocation"): f"{ID_NS} http://www.openarchives.org/OAI/2.0/"
            "oai-identifier.xsd"
        },
    )
    _sub(oai_id, "scheme", "oai", ns=ID_NS)
    _sub(oai_id, "repositoryIdentifier", _host(request), ns=ID_NS)
    _sub(oai_id, "delimiter", ":", ns=ID_NS)
    _sub(oai_id, "sampleIdentifier", f"oai:{_host(request)}:basit2016mosul", ns=ID_NS)


def _list_formats(request: HttpRequest, root, values) -> None:
    if "identifier" in values:
        _piece_for(request, values["identifier"])
    node = _sub(root, "ListMetadataFormats")
    for prefix, (schema, namespace) in FORMATS.items():
        fmt = _sub(node, "metadataFormat")
        _sub(fmt, "metadataPrefix", prefix)
        _sub(fmt, "schema", schema)
        _sub(fmt, "metadataNamespace", namespace)


def _list_sets(request: HttpRequest, root, values) -> None:
    if "resumptionToken" in values:
        raise OAIError("badResumptionToken", "ListSets answers in one response; no token.")
    node = _sub(root, "ListSets")
    for kind, (model, _) in SET_KINDS.items():
        top = _sub(node, "set")
        _sub(top, "setSpec", kind)
        _sub(top, "setName", f"{kind.capitalize()}s")
        for term in model.objects.order_by("slug").only("slug", "name"):
            entry = _sub(node, "set")
            _sub(entry, "setSpec", f"{kind}:{term.slug}")
            _sub(entry, "setName", term.name)


def _list_request(values: dict[str, str], verb: str) -> ListRequest:
    if "resumptionToken" in values:
        try:
            data = signing.loads(values["resumptionToken"], salt=TOKEN_SALT)
            wanted = ListRequest(**data)
        except (signing.BadSignature, TypeError, ValueError):
            raise OAIError("badResumptionToken", "The resumption token is not valid.") from None
        if wanted.verb != verb:
            raise OAIError("badResumptionToken", f"That token belongs to {wanted.verb}.")
        return wanted
    prefix = values["metadataPrefix"]
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat", f"No metadata format {prefix!r}; use oai_dc.")
    return ListRequest(
        verb, prefix, values.get("set", ""), values.get("from", ""), values.get("until", "")
    )


def _selected(wanted: ListRequest) -> PieceQuerySet:
    """The pieces a list request covers, in primary-key order (the token's position)."""
    pieces = Piece.objects.all()
    start = until = None
    if wanted.start:
        start, start_kind = _parse_stamp(wanted.start, end=False)
        pieces = pieces.filter(updated_at__gte=start)
    if wanted.until:
        until, until_kind = _parse_stamp(wanted.until, end=True)
        pieces = pieces.filter(updated_at__lte=until)
    if start and until:
        if start_kind != until_kind:
            raise OAIError("badArgument", "from and until must have the same granularity.")
        if start > until:
            raise OAIError("badArgument", "from is later than until.")
    if wanted.set:
        kind, _, slug = wanted.set.partition(":")
        if kind not in SET_KINDS:
            raise OAIError("badArgument", f"There is no set {wanted.set!r}.")
        model, lookup = SET_KINDS[kind]
        if slug:
            if not model.objects.filter(slug=slug).exists():
                raise OAIError("badArgument", f"There is no set {wanted.set!r}.")
            condition = Q(**{lookup: slug})
        else:
            condition = Q(**{f"{lookup}__isnull": False})
        pieces = pieces.filter(pk__in=Piece.objects.filter(condition).values("pk"))
    return pieces.order_by("pk")


def _list(request: HttpRequest, root, values, verb: str) -> None:
    wanted = _list_request(values, verb)
    selected = _selected(wanted)
    page = list(selected.filter(pk__gt=wanted.after).with_related()[:PAGE_SIZE])
    if not page:
        if wanted.after:
            raise OAIError("badResumptionToken", "The list has changed; start the harvest again.")
        raise OAIError("noRecordsMatch", "No record matches these arguments.")
    node = _sub(root, verb)
    for piece in page:
        if verb == "ListIdentifiers":
            _header(request, node, piece)
        else:
            _record(request, node, piece)
    total = selected.count()
    sent = wanted.cursor + len(page)
    if sent < total or wanted.after:
        token = _sub(
            node, "resumptionToken", completeListSize=str(total), cursor=str(wanted.cursor)
        )
        if sent < total:
            following = ListRequest(**{**asdict(wanted), "after": page[-1].pk, "cursor": sent})
            token.text = signing.dumps(asdict(following), salt=TOKEN_SALT, compress=True)


def _get_record(request: HttpRequest, root, values) -> None:
    if values["metadataPrefix"] not in FORMATS:
        raise OAIError("cannotDisseminateFormat", "Use the metadata format oai_dc.")
    piece = _piece_for(request, values["identifier"])
    _record(request, _sub(root, "GetRecord"), piece)


# --- records --------------------------------------------------------------------------------


def _header(request: HttpRequest, parent, piece: Piece) -> None:
    header = _sub(parent, "header")
    _sub(header, "identifier", identifier(request, piece))
    _sub(header, "datestamp", _stamp(piece.updated_at))
    for topic in piece.topics.all():
        _sub(header, "setSpec", f"topic:{topic.slug}")
    for region in piece.regions.all():
        _sub(header, "setSpec", f"region:{region.slug}")


def _record(request: HttpRequest, parent, piece: Piece) -> None:
    record = _sub(parent, "record")
    _header(request, record, piece)
    metadata = _sub(record, "metadata")
    dc = etree.SubElement(
        metadata,
        _q(OAI_DC_NS, "dc"),
        nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS},
        attrib={_q(XSI_NS, "schemaLocation"): f"{OAI_DC_NS} {FORMATS['oai_dc'][0]}"},
    )
    for name, value in dublin_core(request, piece):
        _sub(dc, name, value, ns=DC_NS)


def dublin_core(request: HttpRequest, piece: Piece) -> list[tuple[str, str]]:
    """The piece as simple Dublin Core ``(element, value)`` pairs, in the schema's order."""
    fields = [("title", piece.full_title)]
    fields += [("creator", a.sort_name) for a in piece.authors]
    fields += [("subject", word) for word in keywords_of(piece)]
    if piece.synopsis:
        fields.append(("description", piece.synopsis))
    if piece.publisher:
        fields.append(("publisher", piece.publisher))
    fields += [("contributor", a.sort_name) for a in piece.editors]
    if date := iso_date(piece):
        fields.append(("date", date))
    fields += [("type", "Text"), ("type", piece.get_type_display())]
    fields.append(("identifier", request.build_absolute_uri(piece.get_absolute_url())))
    if piece.doi:
        fields.append(("identifier", f"https://doi.org/{piece.doi}"))
    if piece.url:
        fields.append(("identifier", piece.url))
    if piece.container_title:
        source = piece.container_title
        for label, value in (("vol.", piece.volume), ("no.", piece.issue), ("pp.", piece.pages)):
            if value:
                source += f", {label} {value}"
        fields.append(("source", source))
    if piece.language:
        fields.append(("language", piece.language))
    if piece.series:
        series = f"{piece.series}, no. {piece.number}" if piece.number else piece.series
        fields.append(("relation", series))
    fields += [("coverage", r.name) for r in piece.regions.all()]
    return fields


HANDLERS = {
    "Identify": _identify,
    "ListMetadataFormats": _list_formats,
    "ListSets": _list_sets,
    "ListIdentifiers": lambda request, root, values: _list(
        request, root, values, "ListIdentifiers"
    ),
    "ListRecords": lambda request, root, values: _list(request, root, values, "ListRecords"),
    "GetRecord": _get_record,
}


# The protocol requires POST as well as GET; the endpoint only reads, so CSRF protects
# nothing here and a harvester has no token to send.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def oai(request: HttpRequest) -> HttpResponse:
    """One OAI-PMH request: the answer, or the protocol's error element (still a 200)."""
    root = etree.Element(
        _q(OAI_NS, "OAI-PMH"),
        nsmap={None: OAI_NS, "xsi": XSI_NS},
        attrib={_q(XSI_NS, "schemaLocation"): f"{OAI_NS} {OAI_NS}OAI-PMH.xsd"},
    )
    _sub(root, "responseDate", _stamp(timezone.now()))
    echo = _sub(root, "request", request.build_absolute_uri(reverse("protocols:oai")))
    try:
        verb, values = _arguments(request)
        for name, value in (("verb", verb), *values.items()):
            echo.set(name, xml_safe(value))
        HANDLERS[verb](request, root, values)
    except OAIError as error:
        if error.code in ("badVerb", "badArgument"):
            echo.attrib.clear()  # the protocol echoes no arguments of a malformed request
        del root[2:]
        _sub(root, "error", str(error), code=error.code)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return HttpResponse(body, content_type="text/xml; charset=utf-8")
