"""Who may download a piece's PDF: ``ATTACHMENTS_PUBLIC`` decides (README, Configuration).

The catalogue record is public either way; the file itself may be someone else's
copyright, so by default only signed-in users get it. The piece page asks the same question
through the context processor, so it never shows a link that would only bounce.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def may_download(request: HttpRequest) -> bool:
    """Whether this request may download attachments."""
    return settings.DOSSIER_ATTACHMENTS_PUBLIC or request.user.is_authenticated


def attachment_access(request: HttpRequest) -> dict[str, bool]:
    """Template context: ``may_download_attachments``."""
    return {"may_download_attachments": may_download(request)}
