"""Full-text search of listings in PostgreSQL.

Each listing stores a ``tsvector``, built by a trigger (exchange.models.SEARCH_TRIGGER_SQL),
with the text-search configuration of its own language (stemming: "aguas potables" and
"agua potable" meet) plus a language-neutral ``simple`` part (names, acronyms), all from
accent-folded text. A query is folded the same way and parsed with ``websearch_to_tsquery``
in every configuration, so a query in English finds English content and a query in Spanish
finds Spanish content; the readings are OR'ed, each distinct one once (``readings_sql``).

Relevance is ``ts_rank`` on the vector's title and summary (weights A and B, ``HEAD_SQL``): a
listing naming the query in its title comes first, then in its summary; those matching
only in the description follow, newest first. The catalogue ranks every match this way on
``CatalogueEntry.head``, a copy of that part kept inline; ranking on the whole vector read
each match's 1.3 KB vector out of line, and cost too much to rank more than a window.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db.models import F, Func

from exchange.text import fold

CONFIGS = {"en": "english", "es": "spanish", "pt": "portuguese", "fr": "french"}

# The part of a search vector that relevance weighs: the title (A) and the summary (B).
HEAD_SQL = "ts_filter({vector}, '{{a,b}}')"

# The trigger function of Listing keeping its CatalogueEntry, in the transaction that
# publishes, changes or unpublishes it (the triggers' conditions spare drafts any work).
ENTRY_SYNC_SQL = f"""
    IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN
        IF TG_OP = 'UPDATE' AND OLD.status = 'published'
           AND OLD.published_at IS NOT DISTINCT FROM NEW.published_at
           AND OLD.search_vector IS NOT DISTINCT FROM NEW.search_vector THEN
            RETURN NULL;
        END IF;
        INSERT INTO exchange_catalogueentry (listing_id, published_at, head, vector)
        VALUES (
            NEW.id, NEW.published_at, {HEAD_SQL.format(vector="NEW.search_vector")},
            NEW.search_vector
        )
        ON CONFLICT (listing_id) DO UPDATE
           SET published_at = EXCLUDED.published_at, head = EXCLUDED.head,
               vector = EXCLUDED.vector;
    ELSE
        DELETE FROM exchange_catalogueentry WHERE listing_id = OLD.id;
    END IF;
    RETURN NULL;
"""  # noqa: S608 - constants only

# Every entry rebuilt from the listings (the migration that creates them, and a restore
# that skipped triggers: ``manage.py rebuild_bitmaps``).
ENTRY_REBUILD_SQL = f"""
DELETE FROM exchange_catalogueentry;
INSERT INTO exchange_catalogueentry (listing_id, published_at, head, vector)
SELECT id, published_at, {HEAD_SQL.format(vector="search_vector")}, search_vector
  FROM exchange_listing
 WHERE status = 'published';
"""  # noqa: S608 - constants only

# The entries' storage: the vector out of line (the GIN index finds matches without it),
# the head inline, so that reading every match's id, date and head reads a narrow heap
# (35 MB at 100,000 listings, against 79 MB for the listings).
ENTRY_STORAGE_SQL = """
ALTER TABLE exchange_catalogueentry SET (toast_tuple_target = 128);
ALTER TABLE exchange_catalogueentry ALTER COLUMN vector SET STORAGE EXTERNAL;
ALTER TABLE exchange_catalogueentry ALTER COLUMN head SET STORAGE MAIN;
"""


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


def rank(search_query: SearchQuery) -> SearchRank:
    """The relevance of a listing for ``search_query`` (see the module's docstring), for a
    queryset of listings."""
    head = Func(
        F("search_vector"),
        template=HEAD_SQL.format(vector="%(expressions)s"),
        output_field=SearchVectorField(),
    )
    return SearchRank(head, search_query)
