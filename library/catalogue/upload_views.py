"""Editors upload commentary PDFs (or text files), review the drafts, and save the ones they keep.

Step one reads every file with the same code as ``manage.py ingest`` and stages the good ones
under ``MEDIA_ROOT/ingest-staging/`` with a random name, remembered in the editor's session:
only tokens from that session can be saved, so nobody can name a file on the server. Step two
saves each ticked draft through :class:`ReviewForm` (the paste flow's form with the
suggestions as tick boxes) and keeps the PDF as the piece's attachment under a generated name.
The attachment is served by :func:`piece_attachment` rather than from ``MEDIA_URL``, so it
works the same in development and production.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from library.catalogue.attachments import may_download
from library.catalogue.concurrency import same_work_saved
from library.catalogue.file_ingest import FileDraft, draft_from_bytes, pdf_limits
from library.catalogue.locking import lock_piece_saves
from library.catalogue.models import Piece, PieceType, Provenance
from library.catalogue.upload_forms import ReviewForm, UploadForm
from library.catalogue.views import editor_required
from library.ingest.pdf import MB, PdfExtractor, PdfProblem, file_name_problem, file_sha256
from library.ingest.types import NotACommentary
from library.storage import failure_reason, write_atomically

SESSION_KEY = "dossier_uploads"
STAGING_DIR = "ingest-staging"
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
    file_draft: FileDraft | None = None


def _staging_path(token: str) -> Path:
    return Path(settings.MEDIA_ROOT) / STAGING_DIR / f"{token}.upload"


@editor_required("catalogue.add_piece")
@require_http_methods(["GET", "POST"])
def piece_upload(request: HttpRequest) -> HttpResponse:
    """Step one: read the chosen files and show what was found in each."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _discard_staged(request)
        staged: dict[str, dict] = {}
        with PdfExtractor(pdf_limits()) as extractor:
            results = [_read_upload(f, extractor, staged) for f in form.cleaned_data["files"]]
        request.session[SESSION_KEY] = staged
        return _review(request, results)
    return render(
        request,
        "catalogue/piece_upload.html",
        {"form": form, "max_mb": settings.DOSSIER_MAX_PDF_BYTES // MB},
    )


def _review(request: HttpRequest, results: list[UploadResult], status: int = 200) -> HttpResponse:
    context = {"results": results, "has_drafts": any(r.form for r in results)}
    return render(request, "catalogue/piece_upload_review.html", context, status=status)


def _read_upload(uploaded, extractor: PdfExtractor, staged: dict) -> UploadResult:
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
        file_draft = draft_from_bytes(data, source=name, extractor=extractor)
    except PdfProblem as exc:
        return UploadResult(name, "needs-attention" if exc.attention else "failed", exc.reason)
    except NotACommentary as exc:
        return UploadResult(name, "failed", f"this does not read as a commentary: {exc.reason}")
    if file_draft.duplicate is not None:
        return UploadResult(
            name, "duplicate", file_draft.duplicate_reason, duplicate=file_draft.duplicate
        )
    token = secrets.token_hex(16)
    path = _staging_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(path, data)  # whole or absent: never a 0-byte staged file
    except OSError as exc:
        return UploadResult(name, "failed", f"{failure_reason(exc)}; upload it again later")
    suggestions = {
        "topics": [[s.slug, s.name] for s in file_draft.draft.topic_suggestions],
        "regions": [[s.slug, s.name] for s in file_draft.draft.region_suggestions],
        "keywords": file_draft.keywords,
    }
    staged[token] = {
        "name": name,
        "sha256": file_draft.sha256,
        "pdf": file_draft.is_pdf,
        "source_hash": file_draft.parsed.source_hash,
        "suggestions": suggestions,
    }
    form = ReviewForm(prefix=token, initial=_initial(file_draft), suggestions=suggestions)
    return UploadResult(name, "draft", token=token, form=form, file_draft=file_draft)


def _initial(file_draft: FileDraft) -> dict:
    """The draft as the form's starting values; every suggestion starts ticked."""
    parsed, draft = file_draft.parsed, file_draft.draft
    return {
        "include": True,
        "type": PieceType.COMMENTARY,
        "title": parsed.title,
        "subtitle": parsed.subtitle,
        "authors_text": "\n".join(
            f"{a.name} | {a.affiliation}" if a.affiliation else a.name for a in parsed.authors
        ),
        "date_text": parsed.date.isoformat() if parsed.date else "",
        "publisher": parsed.publisher,
        "series": parsed.series,
        "number": parsed.number,
        "synopsis": parsed.synopsis,
        "body": draft.body,
        "accepted_topics": [s.slug for s in draft.topic_suggestions],
        "accepted_regions": [s.slug for s in draft.region_suggestions],
        "accepted_keywords": list(file_draft.keywords),
    }


@editor_required("catalogue.add_piece")
@require_POST
def piece_upload_save(request: HttpRequest) -> HttpResponse:
    """Step two: save every ticked draft, or show the forms again if one needs correcting."""
    staged: dict[str, dict] = request.session.get(SESSION_KEY, {})
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
        entry = staged.pop(token)
        if token in chosen:
            outcome = _save_reviewed(forms[token], entry, token, request.user)
            if isinstance(outcome, Piece):
                saved.append(outcome)
            else:
                messages.warning(request, f"{entry['name']}: not saved: {outcome}")
        _staging_path(token).unlink(missing_ok=True)
    request.session[SESSION_KEY] = staged
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


def _save_reviewed(form: ReviewForm, entry: dict, token: str, user) -> Piece | str:
    """Save one confirmed draft with its attachment; a string says why it was not saved."""
    try:
        data = _staging_path(token).read_bytes()
    except OSError:
        return "the uploaded file is no longer on the server; upload it again"
    if file_sha256(data) != entry["sha256"]:
        return "the uploaded file changed on the server; upload it again"
    piece = None
    try:
        with transaction.atomic():
            # Check and insert under the piece-save lock: the same work twice in one batch,
            # or from two editors at once, is saved once.
            lock_piece_saves()
            duplicate = same_work_saved(
                source_hash=entry["source_hash"],
                attachment_sha256=entry["sha256"] if entry["pdf"] else "",
            )
            if duplicate is not None:
                return f"{duplicate.reason} as {duplicate.existing.citation_key}"
            piece = form.save()
            piece.provenance = Provenance.INGEST
            piece.source_file = entry["name"][:500]
            piece.source_hash = entry["source_hash"]
            piece.created_by = user
            fields = ["provenance", "source_file", "source_hash", "created_by"]
            if entry["pdf"]:
                piece.attachment.save("attachment.pdf", ContentFile(data), save=False)
                piece.attachment_sha256 = entry["sha256"]
                fields += ["attachment", "attachment_sha256"]
            piece.save(update_fields=fields)
    except OSError as exc:  # full disk or I/O error: the transaction rolled back
        if piece is not None and piece.attachment:
            piece.attachment.delete(save=False)
        return failure_reason(exc)
    except BaseException:
        if piece is not None and piece.attachment:
            piece.attachment.delete(save=False)
        raise
    return piece


def _discard_staged(request: HttpRequest) -> None:
    """Drop this session's earlier, unsaved uploads and anyone's staged files over a day old."""
    for token in request.session.pop(SESSION_KEY, {}):
        _staging_path(token).unlink(missing_ok=True)
    folder = Path(settings.MEDIA_ROOT) / STAGING_DIR
    if folder.is_dir():
        cutoff = time.time() - STAGING_MAX_AGE
        for path in folder.glob("*.upload"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


@require_GET
def piece_attachment(request: HttpRequest, key: str) -> FileResponse:
    """The piece's PDF, named after its citation key, never after the uploader's file."""
    piece = get_object_or_404(Piece, citation_key=key)
    if not piece.attachment:
        raise Http404("This piece has no attached file.")
    if not may_download(request):  # ATTACHMENTS_PUBLIC=0: signed-in users only
        return redirect_to_login(request.get_full_path())
    try:
        handle = piece.attachment.open("rb")
    except FileNotFoundError:
        raise Http404("The attached file is missing from the server.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{piece.citation_key}.pdf",
        content_type="application/pdf",
    )
