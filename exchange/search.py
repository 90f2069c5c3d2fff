"""Full-text search of listings in PostgreSQL.

Each listing stores a ``tsvector``, built by a trigger (exchange.models.SEARCH_TRIGGER_SQL),
with the text-search configuration of its own language (stemming: "aguas potables" and
"agua potable" meet) plus a language-neutral ``simple`` part (names, acronyms), all from
accent-folded text. A query is folded the same way and parsed with ``websearch_to_tsquery``
in every configuration, so a query in English finds English content and a query in Spanish
finds Spanish content.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery

from exchange.text import fold

CONFIGS = {"en": "english", "es": "spanish", "pt": "portuguese", "fr": "french"}


class _ReadingsQuery(SearchQuery):
    """``exchange_search_query(text, configs)`` (migration exchange/0011): ``text`` parsed
    with ``websearch_to_tsquery`` in each configuration, the distinct readings OR'ed. The
    configurations are written into the SQL: PostgreSQL evaluates the call once, while
    planning, when every argument is a constant (the text is one: Django binds parameters
    on the client), and then plans with the tsquery it returned."""

    template = (
        "exchange_search_query(%(expressions)s, "
        f"'{{{','.join(('simple', *CONFIGS.values()))}}}'::regconfig[])"
    )


def search_query(text: str) -> SearchQuery | None:
    """The query for ``text`` in every configuration, or None when nothing is searchable."""
    folded = fold(text).strip()
    if not folded:
        return None
    return _ReadingsQuery(folded, search_type="raw")
