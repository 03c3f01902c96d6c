"""Issuing, checking and revoking API tokens: the one place that knows their format."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.utils import timezone

from library.api.models import ApiToken

TOKEN_PREFIX = "dos_"
#: ``last_used_at`` is written at most this often, so a busy script costs no write per call.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "API token", prefix=raw[:12], digest=digest(raw)
    )
    return token, raw


def user_for_token(raw: str) -> ApiToken | None:
    """The live token for ``raw`` (with its user), or None for an unknown or revoked one."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def bearer_token(request) -> ApiToken | None:
    """The live token of a request's ``Authorization: Bearer`` header, if it sends one.

    For views outside the JSON API that a script may call with its token (attachments,
    the body limit); the API's own authentication is :mod:`library.api.auth`.
    """
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return user_for_token(raw.strip())


def revoke_token(user, token_id: int) -> bool:
    """Delete one of ``user``'s tokens; False when it is not theirs or already gone."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)
