"""Who may see and change a list, checked the same way by every view.

* Reading by number: public lists, or the owner and collaborators. Anyone else gets 404,
  so a private (or unlisted) list's existence is not revealed by its number.
* Reading by link: unlisted and public lists, with the current token only.
* Changing: owner and collaborators; owner-only actions (visibility, link, collaborators,
  deletion) answer 403 to collaborators. Someone who can read a public list but not
  change it gets 403; anyone who cannot read it gets 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from library.readinglists.models import ReadingList, Visibility


def readable_list(request: HttpRequest, pk: int) -> ReadingList:
    reading_list = get_object_or_404(ReadingList.objects.select_related("owner"), pk=pk)
    if not reading_list.is_visible_to(request.user):
        raise Http404("No such list.")
    return reading_list


def shared_list(token: str) -> ReadingList:
    reading_list = get_object_or_404(
        ReadingList.objects.select_related("owner"),
        share_token=token,
        visibility__in=[Visibility.UNLISTED, Visibility.PUBLIC],
    )
    return reading_list


def editable_list(request: HttpRequest, pk: int, *, owner_only: bool = False) -> ReadingList:
    reading_list = readable_list(request, pk)
    if owner_only:
        if reading_list.owner_id != request.user.pk:
            raise PermissionDenied("Only the list's owner can do this.")
    elif not reading_list.is_editor(request.user):
        raise PermissionDenied("Only the list's owner and collaborators can change it.")
    return reading_list


def list_editor(*, methods: tuple[str, ...] = ("POST",), owner_only: bool = False) -> Callable:
    """Decorate a view taking ``(request, reading_list, ...)`` in place of ``pk``.

    Wrong method: 405. Anonymous: sign-in page. Then the rules above. CSRF is enforced by
    the middleware for every POST; none of these views is exempt.
    """

    def decorator(view: Callable) -> Callable:
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapped(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            reading_list = editable_list(request, pk, owner_only=owner_only)
            return view(request, reading_list, *args, **kwargs)

        return wrapped

    return decorator
