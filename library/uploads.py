"""Request bodies are bounded before they are read, let alone written to disk.

Django parses a multipart body the first time anything reads ``request.POST``: the CSRF
check does, before any view runs. Its temporary-file handler writes every uploaded byte to
``FILE_UPLOAD_TEMP_DIR``, so a 200 MB body from anyone with a self-made ``csrftoken``
cookie was written out in full before the 403. Two guards stop that:

- :class:`BodyLimitMiddleware` answers 413 from the ``Content-Length`` header alone, before
  the body is read: ``MAX_UPLOAD_BYTES`` for signed-in users (a session, or a JSON API
  bearer token), the much smaller ``MAX_ANONYMOUS_UPLOAD_BYTES`` for everyone else
  (sign-in and sign-up forms are tiny).
- :class:`BoundedUploadHandler`, first in ``FILE_UPLOAD_HANDLERS``, counts the bytes of
  every file as they stream in and stops the parse before the chunk that would pass the
  limit reaches the handlers that store it (a body with no or a wrong length, or a server
  that does not pass the header on).

Non-file form fields are bounded by Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

_REFUSED = "_dossier_body_refused"


class RequestBodyTooLarge(RequestDataTooBig):
    """Django answers a ``RequestDataTooBig`` with 400; the middleware makes it a 413."""


def body_limit(request: HttpRequest) -> int:
    """The largest request body this request's sender may send, in bytes."""
    if _signed_in(request):
        return settings.DOSSIER_MAX_REQUEST_BYTES
    return min(settings.DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES, settings.DOSSIER_MAX_REQUEST_BYTES)


def _signed_in(request: HttpRequest) -> bool:
    """A session's signed-in user, or a live JSON API token (``Authorization: Bearer``).

    API scripts send no session: their token is checked here, before the API's own
    authentication runs, so their writes get the signed-in limit. A bad token counts as
    anonymous (the API then answers it 401 if the body is within that limit).
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    from library.api.tokens import bearer_token  # the API app imports nothing from here

    return bearer_token(request) is not None


def _refuse(request: HttpRequest, limit: int) -> RequestBodyTooLarge:
    setattr(request, _REFUSED, limit)
    return RequestBodyTooLarge(f"request body over the limit of {limit:,} bytes")


class BoundedUploadHandler(FileUploadHandler):
    """Stops reading an upload at the request's body limit, before storing past it."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = body_limit(request) if request is not None else 0
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        if self.request is not None and content_length > self.limit:
            raise _refuse(self.request, self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.request is not None and self.received > self.limit:
            # Raised, not StopUpload: the view must never see a silently truncated form.
            raise _refuse(self.request, self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the storing handlers after this one build the file


class BodyLimitMiddleware:
    """413 for a body over the limit, decided from its declared length before reading it.

    Sits after ``AuthenticationMiddleware`` (the limit depends on who is asking; reading the
    session never touches the body) and also turns :class:`BoundedUploadHandler`'s refusal,
    which Django answers with a 400, into the same 413 page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads no body without a valid length
        # Who is asking matters only past the smaller, anonymous limit: most requests never
        # load the session's user here.
        smallest = min(
            settings.DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES, settings.DOSSIER_MAX_REQUEST_BYTES
        )
        if declared > smallest:
            limit = body_limit(request)
            if declared > limit:
                return too_large(request, limit)
        response = self.get_response(request)
        refused = getattr(request, _REFUSED, None)
        if refused is not None:
            return too_large(request, refused)
        return response


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """A short page naming the limit; the rest of the body is never read."""
    signed_in = _signed_in(request)
    page = render_to_string("413.html", {"limit_mb": limit / (1024 * 1024), "signed_in": signed_in})
    return HttpResponse(page, status=413)
