"""Sign-in failures and sign-ups, limited per address as well as per username.

django-axes locks a username from one address after ``LOGIN_FAILURE_LIMIT`` failures. That
alone lets one address spray a common password across many usernames, and create accounts
without end. So:

- :class:`AddressAwareAxesHandler` also counts failures per address, whatever the usernames,
  against its own, larger ``LOGIN_ADDRESS_FAILURE_LIMIT`` (a classroom behind one NAT makes
  honest typos too). Axes has one limit for every lockout parameter, so the address's count
  is scaled onto it.
- :func:`signup_allowed` lets one address create ``SIGNUPS_PER_ADDRESS_PER_HOUR`` accounts an
  hour, counted from axes' own access log (a new account is signed in at once, which axes
  records with the address), so every app instance sees the same count.
"""

from __future__ import annotations

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

ADDRESS_ONLY = ("ip_address", ["ip_address"], ("ip_address",))


class AddressAwareAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate failure limit for an address on its own."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        pair_limit = settings.AXES_FAILURE_LIMIT
        address_limit = settings.DOSSIER_LOGIN_ADDRESS_FAILURE_LIMIT
        counts = []
        attempts = self.get_user_attempts(request, credentials)
        for parameter, queryset in zip(settings.AXES_LOCKOUT_PARAMETERS, attempts, strict=True):
            failures = queryset.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter in ADDRESS_ONLY:
                # Locked when failures reach address_limit: scaled so that is pair_limit.
                failures = failures * pair_limit // address_limit
            counts.append(failures)
        return max(counts, default=0)


def signup_allowed(request: HttpRequest) -> bool:
    """Whether this address may create another account in the current hour."""
    since = timezone.now() - timedelta(hours=1)
    address = get_client_ip_address(request)
    recent = get_user_model().objects.filter(date_joined__gte=since)
    created = (
        AccessLog.objects.filter(
            ip_address=address,
            attempt_time__gte=since,
            username__in=recent.values("username"),
        )
        .values("username")
        .distinct()
        .count()
    )
    return created < settings.DOSSIER_SIGNUPS_PER_ADDRESS_PER_HOUR
