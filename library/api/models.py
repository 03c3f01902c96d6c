"""API tokens: what a script presents instead of a browser session.

Only a SHA-256 digest of each token is stored. Tokens are 256 random bits, so a fast hash
is enough (a slow password hash protects guessable secrets, which these are not) and
lets a request find its token with one indexed look-up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """One named token of one user; revoking it deletes the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “Zotero sync”.")
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to recognise it in a list."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
