"""``{% list_targets as targets %}``: the lists (and sections) the current user may add to."""

from __future__ import annotations

from django import template
from django.db.models import Prefetch, Q

from library.readinglists.models import ReadingList, Section

register = template.Library()


@register.simple_tag(takes_context=True)
def list_targets(context) -> list[ReadingList]:
    """Lists the user owns or collaborates on, sections prefetched; one fetch per request.

    Cached on the request because search results include the form once per result.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(request, "_readinglist_targets", None)
    if cached is None:
        cached = list(
            ReadingList.objects.filter(Q(owner=user) | Q(collaborators=user))
            .distinct()
            .prefetch_related(
                Prefetch("sections", queryset=Section.objects.order_by("position", "pk"))
            )
            .order_by("title", "pk")
        )
        request._readinglist_targets = cached
    return cached
