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


class AnyConfigQuery(SearchQuery):
    """``text`` parsed with ``websearch_to_tsquery`` in the ``simple`` and every language
    configuration, each distinct reading once, OR'ed.

    Spanish, Portuguese and French often stem alike ("agua potable" is 'agu' & 'potabl' in
    all three): OR'ing the five readings as they come repeated those, which made the index
    search them three times and weighed them three times in ``ts_rank``. The readings are
    compared and joined in PostgreSQL, once per query (an uncorrelated subquery).
    """

    def __init__(self, text: str) -> None:
        super().__init__(text, search_type="websearch")
        self.text = text

    def as_sql(self, compiler, connection, function=None, template=None):
        return ANY_CONFIG_SQL, [self.text] * len(ANY_CONFIG_NAMES)


ANY_CONFIG_NAMES = ("simple", *CONFIGS.values())
# Configuration names only; the text is a parameter.
ANY_CONFIG_SQL = (
    "(SELECT string_agg(DISTINCT '(' || reading::text || ')', ' | ')::tsquery "
    "FROM unnest(ARRAY["
    + ", ".join(f"websearch_to_tsquery('{name}'::regconfig, %s)" for name in ANY_CONFIG_NAMES)
    + "]) AS reading WHERE reading::text <> '')"
)


def search_query(text: str) -> SearchQuery | None:
    """The query for ``text`` in every configuration, or None when nothing is searchable."""
    folded = fold(text).strip()
    if not folded:
        return None
    return AnyConfigQuery(folded)
