"""Who may download a piece's PDF: ``ATTACHMENTS_PUBLIC`` decides (README, Configuration).

The catalogue record is public either way; the file itself may be someone else's
copyright, so by default only signed-in users get it, or a script sending a live API
token (the JSON API hands out ``attachment_url``, so its token must open it). The piece
page asks the same question through the context processor, so it never shows a link that
would only bounce.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def may_download(request: HttpRequest) -> bool:
    """Whether this request may download attachments."""
    if settings.DOSSIER_ATTACHMENTS_PUBLIC or request.user.is_authenticated:
        return True
    from library.api.tokens import bearer_token  # the API app imports nothing from here

    return bearer_token(request) is not None


def sends_bearer_token(request: HttpRequest) -> bool:
    """Whether the request authenticates with a token, so a refusal is 401, not a login page."""
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def attachment_access(request: HttpRequest) -> dict[str, bool]:
    """Template context: ``may_download_attachments``."""
    return {"may_download_attachments": may_download(request)}
