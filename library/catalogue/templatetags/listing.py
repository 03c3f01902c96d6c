"""``{% listed pieces as items %}``: the pieces' list items, rendered once per content."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from library.catalogue.listing import rendered_items

register = template.Library()


@register.simple_tag(takes_context=True)
def listed(context: template.Context, pieces) -> list[SafeString]:
    """Each piece's ``catalogue/_piece_item.html``, from the cache where it is there."""
    return rendered_items(context.get("request"), pieces)
