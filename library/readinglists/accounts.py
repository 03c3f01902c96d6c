"""Self-service sign-up. Sign-in, sign-out and password change are Django's own views.

Dossier lets readers create their own accounts (``ALLOW_SIGNUP=0`` turns this off, leaving
accounts to administrators). New accounts can build reading lists; editing the catalogue
still needs the Editors group, which only an administrator grants.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from library.throttle import signup_allowed


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """UserCreationForm runs AUTH_PASSWORD_VALIDATORS; the new account is signed in at once."""
    if not getattr(settings, "DOSSIER_ALLOW_SIGNUP", True):
        raise Http404("Sign-up is turned off; ask an administrator for an account.")
    if request.user.is_authenticated:
        return redirect("readinglists:index")
    if request.method == "POST" and not signup_allowed(request):
        return render(request, "registration/signup_limited.html", status=429)
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Start a reading list below.")
        return redirect("readinglists:index")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )
