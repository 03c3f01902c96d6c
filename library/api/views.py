"""The API tokens page: a signed-in user makes named tokens for scripts and revokes them.

Any signed-in user may hold tokens (a reader's script reads their own private lists); what a
token may do is what its user may do, so writing the catalogue still needs an editor.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from library.api.tokens import issue_token, revoke_token

MAX_TOKENS = 20


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “Zotero sync”.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; a POST makes one and shows its value this once only."""
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        if request.user.api_tokens.count() >= MAX_TOKENS:
            form.add_error(None, f"You have {MAX_TOKENS} tokens; revoke one first.")
        else:
            _, new_token = issue_token(request.user, form.cleaned_data["name"])
            form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": request.user.api_tokens.all(), "new_token": new_token},
    )


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if revoke_token(request.user, token_id):
        messages.success(request, "Token revoked: scripts using it are refused from now on.")
    else:
        messages.error(request, "No such token.")
    return redirect("api_tokens")
