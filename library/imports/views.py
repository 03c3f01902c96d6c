"""The editor's import page: upload, preview every outcome, then confirm.

The uploaded file is kept under ``MEDIA_ROOT/imports/`` between the preview and the
confirmation (``catalogue.staging``, as the PDF upload does), named by a random token that
is remembered in the editor's session, so nobody else can confirm it. On confirmation the
file is planned again; if the plan differs from what the editor saw (the catalogue changed
meanwhile), the new preview is shown instead of importing something nobody looked at.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from library.catalogue.views import editor_required
from library.imports import jobs
from library.imports.forms import ImportForm
from library.imports.service import (
    ImportPlan,
    ImportStopped,
    apply_plan,
    existing_pieces,
    plan_import,
)

STAGED = jobs.STAGED  # staged here; a background job reads it once confirmed
PERMISSION = "catalogue.add_piece"


def _plan(info: dict, data: bytes) -> ImportPlan:
    return plan_import(
        [(info["name"], data)],
        on_duplicate=info["on_duplicate"],
        encoding=info["encoding"] or None,
        fmt=info["format"] or None,
    )


def _preview(request: HttpRequest, plan: ImportPlan, token: str, *, changed: bool = False):
    existing = existing_pieces(plan)
    for outcome in plan.files[0].outcomes:
        outcome.existing = existing.get(outcome.matched_key)
    return render(
        request,
        "imports/preview.html",
        {
            "plan": plan,
            "file": plan.files[0],
            "token": token,
            "changed": changed,
        },
    )


class SizeLimitHandler(FileUploadHandler):
    """Stops storing an uploaded file once it passes the import limit.

    Without it Django would write all of a 200 MB upload to a temporary file before the
    form could look at its size. Data past the limit is no longer handed to the storing
    handlers; the view then refuses the upload with a message.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.too_large or start + len(raw_data) > self.limit:
            self.too_large = True
            return None
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@editor_required(PERMISSION)
@require_http_methods(["GET", "POST"])
@csrf_exempt  # CSRF is checked below, once the size-limit handler is in place
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a file; the answer is a preview of what would be imported (nothing written)."""
    limiter = SizeLimitHandler(request, settings.DOSSIER_MAX_IMPORT_BYTES)
    request.upload_handlers.insert(0, limiter)
    return _upload(request, limiter)


@csrf_protect
def _upload(request: HttpRequest, limiter: SizeLimitHandler) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    limit = settings.DOSSIER_MAX_IMPORT_BYTES
    too_large = (
        f"The file is over the import limit of {limit:,} bytes." if limiter.too_large else ""
    )
    if too_large:
        form = ImportForm(initial={"on_duplicate": request.POST.get("on_duplicate", "skip")})
    elif request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        data = upload_file.read()
        info = {
            "name": Path(upload_file.name).name[:200],
            "on_duplicate": form.cleaned_data["on_duplicate"],
            "encoding": form.cleaned_data["encoding"],
            "format": form.cleaned_data["format"],
        }
        try:
            plan = _plan(info, data)
        except ImportStopped as exc:
            form.add_error("file", str(exc))
        else:
            if plan.failed_files:
                form.add_error("file", f"{info['name']}: {plan.files[0].error}.")
            else:
                info["digest"] = plan.digest()
                # Whole or absent; a full disk reaches StorageErrorMiddleware's page.
                token = STAGED.stage(request, data, info)
                return _preview(request, plan, token)
    return render(
        request,
        "imports/upload.html",
        {"form": form, "limit": limit, "too_large": too_large},
    )


@editor_required(PERMISSION)
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    """Import exactly what the preview showed, in one transaction."""
    token = request.POST.get("token", "")
    info = STAGED.get(request, token)
    data = STAGED.read(token) if info else None
    if info is None or data is None:
        messages.error(
            request, "That import has expired or was already done; upload the file again."
        )
        return redirect("imports:upload")
    plan = _plan(info, data)
    if plan.failed_files or plan.digest() != info["digest"]:
        info["digest"] = plan.digest()
        STAGED.remember(request, token, info)
        return _preview(request, plan, token, changed=True)
    writes = sum(1 for o in plan.files[0].outcomes if o.status == "create" or o.action == "updated")
    if jobs.runs_in_background(writes):  # would outlast the request timeout: a worker does it
        job = jobs.start(request, token, info)
        # The job owns the staged file now: this session forgets the token, the file stays.
        entries = STAGED.entries(request)
        entries.pop(token, None)
        request.session[STAGED.session_key] = entries
        return redirect("jobs:detail", pk=job.pk)
    try:
        apply_plan(plan, user=request.user)
    except ImportStopped as exc:
        messages.error(request, f"Nothing was imported: {exc}")
        return _preview(request, plan, token)
    STAGED.forget(request, token)
    file_plan = plan.files[0]
    messages.success(
        request,
        f"Imported {info['name']}: {len(file_plan.created)} new, "
        f"{len(file_plan.duplicates)} duplicate(s), {len(file_plan.rejected)} rejected.",
    )
    return redirect("catalogue:piece_list")


@editor_required(PERMISSION)
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    if STAGED.get(request, token) is not None:
        STAGED.forget(request, token)
    messages.info(request, "Import cancelled; nothing was written.")
    return redirect("imports:upload")
