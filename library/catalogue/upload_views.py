"""Editors upload commentary PDFs (or text files), review the drafts, and save the ones they keep.

A batch of more than a few files (``UPLOAD_BACKGROUND_FILES``, ``UPLOAD_BACKGROUND_BYTES``)
is read and saved by a worker instead, without the review step (``upload_jobs``).

Step one reads every file with the same code as ``manage.py ingest`` (``drafts``) and stages
the good ones under ``MEDIA_ROOT/ingest-staging/`` (``staging``): only tokens from the
editor's session can be saved, so nobody can name a file on the server. Step two takes each
ticked draft as corrected in :class:`ReviewForm` (the paste flow's form with the suggestions
as tick boxes) and saves it through ``drafts.save_ingested``, as the command does, keeping the
PDF as the piece's attachment under a generated name.
The attachment is served by :func:`piece_attachment` rather than from ``MEDIA_URL``, so it
works the same in development and production.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from library.catalogue import upload_jobs
from library.catalogue.attachments import may_download, sends_bearer_token
from library.catalogue.concurrency import DuplicateWork
from library.catalogue.drafts import (
    Draft,
    draft_from_bytes,
    draft_initial,
    pdf_limits,
    save_ingested,
)
from library.catalogue.duplicates import find_same_file
from library.catalogue.models import Piece, Provenance
from library.catalogue.staging import Staging
from library.catalogue.upload_forms import ReviewForm, UploadForm
from library.catalogue.views import editor_required
from library.ingest.pdf import MB, PdfExtractor, PdfProblem, file_name_problem, file_sha256
from library.ingest.types import NotACommentary
from library.protocols.ranges import ranged_file_response
from library.storage import failure_reason

STAGED = Staging(session_key="dossier_uploads", folder="ingest-staging", suffix=".upload")
STAGING_MAX_AGE = 24 * 3600


@dataclass
class UploadResult:
    """What became of one uploaded file: a draft to review, a duplicate, or a refusal."""

    name: str
    status: str  # "draft", "duplicate", "needs-attention", "failed"
    reason: str = ""
    duplicate: Piece | None = None
    token: str = ""
    form: ReviewForm | None = None
    draft: Draft | None = None


@editor_required("catalogue.add_piece")
@require_http_methods(["GET", "POST"])
def piece_upload(request: HttpRequest) -> HttpResponse:
    """Step one: read the chosen files and show what was found in each."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["files"]
        if upload_jobs.runs_in_background(files):  # would risk the request timeout
            job = upload_jobs.start(request, files)
            return redirect("jobs:detail", pk=job.pk)
        # This session's earlier, unsaved uploads go, and anyone's staged files over a day old.
        STAGED.forget_all(request, older_than=STAGING_MAX_AGE)
        with PdfExtractor(pdf_limits()) as extractor:
            results = [_read_upload(request, f, extractor) for f in files]
        return _review(request, results)
    return render(
        request,
        "catalogue/piece_upload.html",
        {
            "form": form,
            "max_mb": settings.DOSSIER_MAX_PDF_BYTES // MB,
            "background_files": settings.DOSSIER_UPLOAD_BACKGROUND_FILES,
            "background_mb": settings.DOSSIER_UPLOAD_BACKGROUND_BYTES // MB,
        },
    )


def _review(request: HttpRequest, results: list[UploadResult], status: int = 200) -> HttpResponse:
    context = {"results": results, "has_drafts": any(r.form for r in results)}
    return render(request, "catalogue/piece_upload_review.html", context, status=status)


def _read_upload(request: HttpRequest, uploaded, extractor: PdfExtractor) -> UploadResult:
    name = uploaded.name or ""
    problem = file_name_problem(name)
    if problem:
        return UploadResult(name, "failed", problem)
    limit = max(settings.DOSSIER_MAX_PDF_BYTES, settings.DOSSIER_MAX_INGEST_BYTES)
    if uploaded.size > limit:
        return UploadResult(
            name, "failed", f"the file is {uploaded.size / MB:.1f} MB, over the limit"
        )
    data = uploaded.read()
    try:
        draft = draft_from_bytes(data, source=name, extractor=extractor)
    except PdfProblem as exc:
        return UploadResult(name, "needs-attention" if exc.attention else "failed", exc.reason)
    except NotACommentary as exc:
        return UploadResult(name, "failed", f"this does not read as a commentary: {exc.reason}")
    if draft.duplicate is not None:
        return UploadResult(
            name, "duplicate", draft.duplicate.reason, duplicate=draft.duplicate.piece
        )
    suggestions = {
        "topics": [[s.slug, s.name] for s in draft.topic_suggestions],
        "regions": [[s.slug, s.name] for s in draft.region_suggestions],
        "keywords": draft.keywords,
    }
    info = {
        "name": name,
        "sha256": draft.sha256,
        "pdf": draft.is_pdf,
        "source_hash": draft.parsed.source_hash,
        "suggestions": suggestions,
    }
    try:
        token = STAGED.stage(request, data, info)  # whole or absent: never a 0-byte staged file
    except OSError as exc:
        return UploadResult(name, "failed", f"{failure_reason(exc)}; upload it again later")
    form = ReviewForm(
        prefix=token, initial=draft_initial(draft, as_ticks=True), suggestions=suggestions
    )
    return UploadResult(name, "draft", token=token, form=form, draft=draft)


@editor_required("catalogue.add_piece")
@require_POST
def piece_upload_save(request: HttpRequest) -> HttpResponse:
    """Step two: save every ticked draft, or show the forms again if one needs correcting."""
    staged = STAGED.entries(request)
    tokens = [t for t in dict.fromkeys(request.POST.getlist("token")) if t in staged]
    if not tokens:
        messages.error(request, "Those uploads are no longer waiting; upload the files again.")
        return redirect("catalogue:piece_upload")
    forms = {
        t: ReviewForm(request.POST, prefix=t, suggestions=staged[t]["suggestions"]) for t in tokens
    }
    chosen = [t for t, f in forms.items() if f.fields["include"].clean(_included(f))]
    if any(not forms[t].is_valid() for t in chosen):
        results = [UploadResult(staged[t]["name"], "draft", token=t, form=forms[t]) for t in tokens]
        return _review(request, results, status=400)
    saved: list[Piece] = []
    for token in tokens:
        entry = staged[token]
        if token in chosen:
            outcome = _save_reviewed(forms[token], entry, STAGED.read(token), request.user)
            if isinstance(outcome, Piece):
                saved.append(outcome)
            else:
                messages.warning(request, f"{entry['name']}: not saved: {outcome}")
        STAGED.forget(request, token)
    for piece in saved:
        messages.success(request, f"Added “{piece.title}” as {piece.citation_key}.")
    if len(saved) == 1:
        return redirect(saved[0])
    if not saved and not chosen:
        messages.info(request, "Nothing was saved: no draft was ticked.")
    return redirect("catalogue:home")


def _included(form: ReviewForm) -> bool:
    return form.fields["include"].widget.value_from_datadict(
        form.data, form.files, form.add_prefix("include")
    )


def _save_reviewed(form: ReviewForm, entry: dict, data: bytes | None, user) -> Piece | str:
    """Save one confirmed draft with its attachment; a string says why it was not saved."""
    if data is None:
        return "the uploaded file is no longer on the server; upload it again"
    if file_sha256(data) != entry["sha256"]:
        return "the uploaded file changed on the server; upload it again"
    if entry["pdf"] and (same := find_same_file(entry["sha256"])) is not None:
        return f"the same file was saved meanwhile as {same.piece.citation_key}"
    piece, contributors, tags = form.piece_byline_and_tags()
    piece.provenance = Provenance.INGEST
    piece.source_file = entry["name"][:500]
    piece.source_hash = entry["source_hash"]
    piece.created_by = user
    try:
        # save_piece checks again under the piece-save lock: the same work twice in one
        # batch, or from two editors at once, is saved once.
        return save_ingested(
            piece,
            contributors,
            tags,
            pdf=data if entry["pdf"] else None,
            sha256=entry["sha256"],
            suggested_keywords=entry["suggestions"]["keywords"],
        )
    except DuplicateWork as exc:
        return f"{exc.reason} as {exc.existing.citation_key}"
    except OSError as exc:  # full disk or I/O error: the transaction rolled back
        return failure_reason(exc)


@require_GET
def piece_attachment(request: HttpRequest, key: str) -> HttpResponseBase:
    """The piece's PDF, named after its citation key, never after the uploader's file.

    Only those :func:`~library.catalogue.attachments.may_download` allows get it
    (``ATTACHMENTS_PUBLIC``; otherwise signed-in users). It opens inline and answers
    byte-range requests, so PDF viewers and Zotero can show the first page early;
    ``?download=1`` asks for a download instead.
    """
    piece = get_object_or_404(Piece, citation_key=key)
    if not piece.attachment:
        raise Http404("This piece has no attached file.")
    if not may_download(request):  # ATTACHMENTS_PUBLIC=0: signed-in users or API tokens
        if sends_bearer_token(request):
            response = HttpResponse("The token is unknown or has been revoked.", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="dossier"'
            return response
        return redirect_to_login(request.get_full_path())
    try:
        handle = piece.attachment.open("rb")
        size = piece.attachment.size
    except FileNotFoundError:
        raise Http404("The attached file is missing from the server.") from None
    return ranged_file_response(
        request,
        handle,
        size=size,
        filename=f"{piece.citation_key}.pdf",
        content_type="application/pdf",
        etag=piece.attachment_sha256,
        inline=request.GET.get("download") != "1",
    )
