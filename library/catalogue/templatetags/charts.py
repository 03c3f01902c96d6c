"""``{% year_timeline counts filter_query=… %}`` / ``search=…``: the pieces-per-year chart."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from library.catalogue.charts import timeline

register = template.Library()


def _pairs(counts) -> list[tuple[int, int]]:
    """Year counts as the views hold them: ``{"y", "n"}`` rows or search facet values."""
    pairs = []
    for row in counts or []:
        if isinstance(row, dict):
            pairs.append((row["y"], row["n"]))
        else:
            pairs.append((int(row.key), row.count))
    return pairs


@register.inclusion_tag("catalogue/_timeline.html")
def year_timeline(counts, filter_query: str = "", search: str | None = None, sort: str = ""):
    """Bars link to the browse page with ``filter_query`` plus the year, or, given
    ``search``, to the same search narrowed by ``year:``."""
    if search is not None:

        def url(year: int) -> str:
            params = {"q": f"{search.strip()} year:{year}"}
            if sort and sort != "relevance":
                params["sort"] = sort
            return reverse("search:search") + "?" + urlencode(params)
    else:
        prefix = (
            reverse("catalogue:piece_list") + "?" + (f"{filter_query}&" if filter_query else "")
        )

        def url(year: int) -> str:
            return f"{prefix}year={year}"

    return {"timeline": timeline(_pairs(counts), url)}
