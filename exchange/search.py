"""Full-text search of listings in PostgreSQL.

Each listing stores a ``tsvector``, built by a trigger (exchange.models.SEARCH_TRIGGER_SQL),
with the text-search configuration of its own language (stemming: "aguas potables" and
"agua potable" meet) plus a language-neutral ``simple`` part (names, acronyms), all from
accent-folded text. A query is folded the same way and parsed with ``websearch_to_tsquery``
in every configuration, so a query in English finds English content and a query in Spanish
finds Spanish content; the readings are OR'ed, each distinct one once (``readings_sql``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery

from exchange.text import fold

CONFIGS = {"en": "english", "es": "spanish", "pt": "portuguese", "fr": "french"}


def readings_sql(text_sql: str, configs: Iterable[str]) -> str:
    """SQL reading the text ``text_sql`` with ``websearch_to_tsquery`` in each of
    ``configs``, the distinct readings OR'ed (``exchange_search_query``, migration
    exchange/0011). The configurations are written into the SQL: PostgreSQL evaluates the
    call once, while planning, when every argument is a constant (the text is one: Django
    binds parameters on the client), and then plans with the tsquery it returned."""
    return f"exchange_search_query({text_sql}, '{{{','.join(configs)}}}'::regconfig[])"


class _ReadingsQuery(SearchQuery):
    """A text query read in the ``simple`` configuration and in every language's."""

    template = readings_sql("%(expressions)s", ("simple", *CONFIGS.values()))


def search_query(text: str) -> SearchQuery | None:
    """The query for ``text`` in every configuration, or None when nothing is searchable."""
    folded = fold(text).strip()
    if not folded:
        return None
    # The template replaces SearchQuery's function; a search_type is required all the same.
    return _ReadingsQuery(folded, search_type="raw")
