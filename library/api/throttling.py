"""Rate limits for the API, counted in Django's cache per token, user or address.

A fixed one-minute window: ``cache.add`` then ``cache.incr`` is one round trip each and
atomic on every cache backend Django ships. With the default per-process memory cache each
gunicorn worker counts on its own, so the effective limit is the rate times the workers; a
shared cache (Redis, Memcached) makes it exact.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    """The caller's address: ``REMOTE_ADDR``, or the one the trusted proxies saw.

    X-Forwarded-For is only believed as far as ``API_TRUSTED_PROXIES`` proxies wrote it;
    otherwise a client could name a new address on every request and never be limited.
    """
    proxies = settings.DOSSIER_API_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


class ApiRateThrottle(BaseThrottle):
    """``API_RATE_ANON`` requests a minute per address, ``API_RATE_AUTH`` per token or user."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def _identity(self, request: HttpRequest) -> tuple[str, int]:
        token = getattr(request, "api_token", None)
        if token is not None:
            return f"token:{token.pk}", settings.DOSSIER_API_RATE_AUTH
        if request.user.is_authenticated:
            return f"user:{request.user.pk}", settings.DOSSIER_API_RATE_AUTH
        return f"ip:{client_address(request)}", settings.DOSSIER_API_RATE_ANON

    def allow_request(self, request: HttpRequest) -> bool:
        identity, limit = self._identity(request)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"api-rate:{identity}:{window}"
        cache.add(key, 0, WINDOW_SECONDS + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request afresh
            cache.set(key, 1, WINDOW_SECONDS + 1)
            count = 1
        if count <= limit:
            return True
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        return self._wait
