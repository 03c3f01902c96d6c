"""Who is calling: a bearer token (scripts) or the browser session (with CSRF on writes).

Reads are open to everyone; a caller that sends credentials is still identified, so the
same request can see the caller's own reading lists. A request that sends a bad token is
refused (401) rather than quietly treated as anonymous, so a script notices a revoked token.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer

from library.api.tokens import user_for_token


class BearerToken(HttpBearer):
    """``Authorization: Bearer dos_…``: a token made on the API tokens page."""

    openapi_bearerFormat = "dos_…"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = user_for_token(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods must carry the CSRF token.

    Unlike ninja's own ``SessionAuth``, a request with no signed-in session is not checked
    for CSRF at all, so a script with a wrong token hears 401, not "CSRF check failed".
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)  # enforces CSRF on POST, PUT, PATCH, DELETE

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


class _Anonymous:
    """A truthy stand-in for "nobody", because ninja treats a falsy result as a failure."""

    def __str__(self) -> str:
        return "anonymous"


ANONYMOUS = _Anonymous()
bearer = BearerToken()
session = SessionAuth()


def optional_auth(request: HttpRequest) -> Any:
    """For reads: the token's or session's user, else anonymous; a bad token is a 401."""
    if "authorization" in request.headers:
        user = bearer(request)
        if user is None:
            raise AuthenticationError(401, "The token is unknown or has been revoked.")
        return user
    if request.user.is_authenticated:
        return request.user
    request.user = AnonymousUser()
    return ANONYMOUS


#: What writes accept: a token first, then the session.
REQUIRED = [bearer, session]
#: Reads: everyone, identified when credentials come along.
OPTIONAL = [optional_auth]
#: How reads describe their security in the OpenAPI document: either scheme, or none.
OPTIONAL_SECURITY = {"security": [{"BearerToken": []}, {"SessionAuth": []}, {}]}


def require_perm(request: HttpRequest, permission: str) -> None:
    """403 unless the caller holds ``permission`` (editors have every catalogue one)."""
    if not request.user.has_perm(permission):
        raise HttpError(403, f"You need the {permission} permission.")
