"""``{% pagination page %}``: the previous/next links of a paged list.

The links keep the request's other parameters, so that a page holding two paged lists (a
listing's history: its changes and its files' changes) pages each without losing the other.
"""

from __future__ import annotations

from django import template
from django.core.paginator import Page

register = template.Library()


@register.inclusion_tag("includes/pagination.html", takes_context=True)
def pagination(context, page: Page, param: str = "page") -> dict:
    query = context["request"].GET.copy()

    def link(number: int) -> str:
        query[param] = number
        return f"?{query.urlencode()}"

    return {
        "page": page,
        "previous_url": link(page.previous_page_number()) if page.has_previous() else "",
        "next_url": link(page.next_page_number()) if page.has_next() else "",
    }
