"""The published catalogue's reads: a validated query (facets, text, order, page), its facet
counts on the catalogue's bitmaps (``exchange.bitmaps``), a text query's matches kept chunk by
chunk, a page of results, and every listing a query finds (the downloads). What they compute
is kept until the catalogue changes (``exchange.caching``)."""

from __future__ import annotations

import array
import dataclasses
import functools
import hashlib
import heapq
import itertools
import struct
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    F,
    Q,
    QuerySet,
)
from django.urls import reverse

from cooperanet.lookups import array_literal
from exchange import bitmaps, caching, search
from exchange.models import (
    CatalogueEntry,
    Listing,
)
from exchange.text import fold

Status = Listing.Status
PAGE_SIZE = 20

SORTS = {"newest": ("-published_at", "-id"), "title": ("title", "id"), "relevance": None}
FACETS = (
    "kind",
    "country",
    "focus_area",
    "sdg",
    "modality",
    "cooperation_type",
    "language",
    "publisher_type",
)
SCALAR_COLUMNS = {
    "kind": "kind",
    "country": "country_id",
    "modality": "modality",
    "cooperation_type": "cooperation_type",
    "language": "language",
    "publisher_type": "publisher_type",
}
ARRAY_COLUMNS = {"focus_area": "focus_area_ids", "sdg": "sdg_numbers"}


@dataclass(frozen=True)
class CatalogueQuery:
    """A validated catalogue request: every value already a known identifier."""

    kind: tuple[str, ...] = ()
    country: tuple[int, ...] = ()
    focus_area: tuple[int, ...] = ()
    sdg: tuple[int, ...] = ()
    modality: tuple[str, ...] = ()
    cooperation_type: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    publisher_type: tuple[str, ...] = ()
    q: str = ""
    sort: str = "newest"
    page: int = 1

    def filters(self) -> dict[str, tuple]:
        """The chosen values of each facet (none for a facet not filtered)."""
        return {name: getattr(self, name) for name in FACETS}

    def cache_key(self) -> str:
        """A digest of the filters (not the page or sort, which leave facet counts alike)."""
        values = [f"{name}={','.join(map(str, sorted(getattr(self, name))))}" for name in FACETS]
        text = "|".join([*values, f"q={fold(self.q).strip()}"])
        return hashlib.sha256(text.encode()).hexdigest()


class CatalogueRow(NamedTuple):
    """A result of the catalogue, with what its card shows. Plain values, not a model
    instance: a page of 20 is built, cached and read back in a fraction of the time (the
    ORM took 3 ms to build 20 listings with their institution and country)."""

    pk: int
    kind: str
    title: str
    summary: str
    language: str
    country_id: int | None
    institution: str
    focus_area_ids: list[int]

    def get_absolute_url(self) -> str:
        return reverse("exchange:listing", kwargs={"pk": self.pk})


CATALOGUE_ROW_COLUMNS = (
    "id",
    "kind",
    "title",
    "summary",
    "language",
    "country_id",
    "institution__name",
    "focus_area_ids",
)


@dataclass
class CataloguePage:
    listings: list[CatalogueRow]
    total: int
    facets: dict[str, dict]
    query: CatalogueQuery
    page: int
    pages: int
    ranked: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _filtered(query: CatalogueQuery) -> QuerySet[Listing]:
    return filter_listings(Listing.objects.filter(status=Status.PUBLISHED), query)


def filter_listings(listings: QuerySet[Listing], query: CatalogueQuery) -> QuerySet[Listing]:
    """``listings`` narrowed by the catalogue's filters (the page, the API and exports): any
    value within a facet, every facet together, and the full-text query."""
    listings = listings.filter(_facet_filter(query))
    search_query = search.search_query(query.q) if query.q else None
    if search_query is not None:
        listings = listings.filter(search_vector=search_query)
    return listings


def _facet_filter(query: CatalogueQuery) -> Q:
    """The facet filters of ``query`` as one condition (empty when none is chosen)."""
    condition = Q()
    for name, column in SCALAR_COLUMNS.items():
        values = getattr(query, name)
        if values:
            condition &= Q(**{f"{column}__in": values})
    for name, column in ARRAY_COLUMNS.items():
        values = getattr(query, name)
        if values:
            # Several values of one facet widen the search (any of them).
            condition &= Q(**{f"{column}__overlap": list(values)})
    return condition


@dataclass(frozen=True)
class TextMatches:
    """The published listings matching a text query, for a page, chunk by chunk of the
    catalogue (exchange.bitmaps): each chunk's facet counts within them and its first
    results meeting the facet filters, in the page's order."""

    chunk_counts: list[bitmaps.Counts]
    # Each chunk's first results, as ``_ENTRY_FORMATS`` packs them: the order's keys, then
    # the id (none when ordered by title: the listings are ordered in SQL then).
    chunk_results: list[bytes]
    sort: str

    def counts(self) -> bitmaps.Counts:
        """The facet counts within the matches: the chunks' added up."""
        counts: bitmaps.Counts = {facet: {} for facet in FACETS}
        for chunk_counts in self.chunk_counts:
            for facet, values in chunk_counts.items():
                total = counts[facet]
                for value, n in values.items():
                    total[value] = total.get(value, 0) + n
        return counts

    def page_ids(self, page: int) -> list[int]:
        """The ids of the results of ``page``: the chunks' first results merged in order."""
        entry = _ENTRY_FORMATS[self.sort]
        merged = heapq.merge(*map(entry.iter_unpack, self.chunk_results), reverse=True)
        offset = (page - 1) * PAGE_SIZE
        return [values[-1] for values in itertools.islice(merged, offset, offset + PAGE_SIZE)]


# The order of a text query's results, on the columns of ``_text_matches``'s matches; each
# result is sent with the keys of its order, so that the chunks' results merge in Python in
# the order PostgreSQL gave them (a float4 rank, a timestamp as microseconds, the id).
_MATCH_ORDERS = {
    "relevance": "rank DESC, published_at DESC, id DESC",
    "newest": "published_at DESC, id DESC",
}
_ENTRY_SQL = {
    "relevance": "float4send(rank) || timestamptz_send(published_at) || int8send(id)",
    "newest": "timestamptz_send(published_at) || int8send(id)",
}
_ENTRY_FORMATS = {"relevance": struct.Struct(">fqq"), "newest": struct.Struct(">qq")}


def _text_matches(query: CatalogueQuery, search_query: SearchQuery) -> TextMatches:
    """A text query's matches, chunk by chunk of the catalogue (exchange.bitmaps): each
    chunk's facet counts and first results are kept in the cache under the chunk's version,
    read from it in one round trip, and those missing computed (``_chunk_matches``). After
    a change to the catalogue, only the chunks that changed are read again: a publication
    among 100,000 listings reads the matches of a chunk of at most 32,768, not all of them.
    The counts are kept apart from the results, which depend on the order and the page too:
    another order or page of the same query reads its results, not its counts, again."""
    # Results for the pages up to ``query.page``, rounded up to a power of two: the pages of
    # a query share a few entries, not one each.
    depth = (1 << (query.page - 1).bit_length()) * PAGE_SIZE if query.sort in _MATCH_ORDERS else 0
    versions = bitmaps.chunk_versions()
    filters_key = query.cache_key()
    counts_keys = {
        chunk: caching.entry_key(f"text-counts:{filters_key}:{chunk}:{version}")
        for chunk, version in versions.items()
    }
    results_keys = {
        chunk: caching.entry_key(
            f"text-results:{filters_key}:{query.sort}:{depth}:{chunk}:{version}"
        )
        for chunk, version in versions.items()
        if depth
    }
    found = cache.get_many([*counts_keys.values(), *results_keys.values()]) if versions else {}
    counts = {chunk: found[key] for chunk, key in counts_keys.items() if key in found}
    results = {chunk: found[key] for chunk, key in results_keys.items() if key in found}
    missing = [
        chunk for chunk in versions if chunk not in counts or (depth and chunk not in results)
    ]
    if missing:
        computed = _chunk_matches(
            query,
            search_query,
            missing,
            depth=depth,
            every=len(missing) == len(versions),
            counted=[chunk for chunk in missing if chunk not in counts],
        )
        for chunk, (chunk_results, chunk_counts) in computed.items():
            if chunk not in counts:
                counts[chunk] = chunk_counts
                caching.keep(counts_keys[chunk], chunk_counts)
            if depth:
                results[chunk] = chunk_results
                caching.keep(results_keys[chunk], chunk_results)
    return TextMatches(
        chunk_counts=list(counts.values()), chunk_results=list(results.values()), sort=query.sort
    )


def _chunk_matches(
    query: CatalogueQuery,
    search_query: SearchQuery,
    chunks: list[int],
    *,
    depth: int,
    every: bool,
    counted: Collection[int] | None = None,
) -> dict[int, tuple[bytes, bitmaps.Counts]]:
    """One statement on the catalogue's search entries (CatalogueEntry, narrow rows) for the
    matches in ``chunks`` (``every``: all the chunks there are): each match's id, date and
    relevance are read once; then, per chunk, all the ids are gathered and the first
    ``depth`` results meeting the filters, in the query's order. Ordered by title, the
    results are ordered on the listings instead, and only the ids are read. A second query
    counts the facets within each chunk's matches, on the bitmaps: the ids, set in Python
    as bits, go back as parameters, and are not kept; only ``counted`` are counted (all
    chunks when None). Returns, per chunk asked for, its results (packed as
    ``_ENTRY_FORMATS`` says) and its facet counts (empty when not counted)."""
    entries = CatalogueEntry.objects.filter(vector=search_query)
    order = _MATCH_ORDERS.get(query.sort)
    columns = ["listing_id", "published_at"]
    if query.sort == "relevance":
        entries = entries.annotate(rank=SearchRank(F("head"), search_query))
        columns.append("rank")
    matches_sql, params = entries.values(*columns).query.sql_with_params()
    chunk_bits = bitmaps.CHUNK_BITS
    params = list(params)
    if not every:
        # As ranges of ids, which the primary key's index reads: PostgreSQL then visits the
        # rows of those chunks only (the 2,268 matches of "agua potable" in the first chunk
        # of 100,000 listings, where a filter on the chunk number visited all 6,913).
        ranges = []
        for _, run in itertools.groupby(enumerate(sorted(chunks)), lambda pair: pair[1] - pair[0]):
            numbers = [number for _, number in run]  # consecutive chunks: one range
            ranges.append((numbers[0] * chunk_bits, (numbers[-1] + 1) * chunk_bits))
        within = " OR ".join(["(listing_id >= %s AND listing_id < %s)"] * len(ranges))
        matches_sql = f"SELECT * FROM ({matches_sql}) AS e WHERE {within}"  # noqa: S608
        params += [bound for pair in ranges for bound in pair]
    ctes = [f"matches ({', '.join(['id', *columns[1:]])}) AS MATERIALIZED ({matches_sql})"]
    selects = ["ids.ids"]
    if order is not None and depth:
        results = "matches"
        filters = bitmaps.of_filters(query.filters())
        if filters is not None:
            ctes.append(
                f"results AS MATERIALIZED (SELECT m.* FROM matches m JOIN ({filters[0]}) "  # noqa: S608
                f"AS f (chunk, bits) ON f.chunk = m.id / {chunk_bits} "
                f"AND get_bit(f.bits, (m.id %% {chunk_bits})::int) = 1)"
            )
            params += filters[1]
            results = "results"
        # Only each chunk's first results are sorted out (a top-N sort): sorting all 6,913
        # matches of "agua potable" at 100,000 listings took 3.3 ms more.
        selects.append(
            f"(SELECT string_agg({_ENTRY_SQL[query.sort]}, ''::bytea ORDER BY {order}) "  # noqa: S608
            f"FROM (SELECT * FROM {results} WHERE id / {chunk_bits} = c.chunk "
            f"ORDER BY {order} LIMIT {int(depth)}) AS first)"
        )
    else:
        selects.append("NULL")
    # Every match's id, by chunk, in one pass. The ids arrive packed, 8 bytes each: psycopg
    # parsed the text of an array of the 6,913 matches of "agua potable" at 100,000 listings
    # in 1.8 ms; these unpack in 0.05.
    ctes.append(
        f"ids (chunk, ids) AS (SELECT id / {chunk_bits}, string_agg(int8send(id), ''::bytea) "  # noqa: S608
        "FROM matches GROUP BY 1)"
    )
    sql = (
        f"WITH {', '.join(ctes)} SELECT c.chunk, {', '.join(selects)} "  # noqa: S608
        "FROM unnest(%s::int[]) AS c (chunk) LEFT JOIN ids USING (chunk)"
    )
    params.append(chunks)
    if not every:
        # PostgreSQL prices the full-text test of a row as cheap, though it reads the vector
        # out of line: for a small chunk (the newest) it chose to read the chunk's rows by
        # the primary key and test each (7.4 ms for its 1,697 rows at 100,000 listings) over
        # intersecting the two indexes (2 ms). Plain index scans are off for this statement
        # alone: set and reset around it, in the same round trip and the same transaction
        # (an error takes the setting back with the rest). Several statements in one
        # execute need Django's client-side binding of parameters (its default; the tests
        # run this path, and would fail under server-side binding).
        sql = f"SET enable_indexscan = off; {sql}; RESET enable_indexscan"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not every:
            cursor.nextset()
        rows = cursor.fetchall()
    found = {
        number: (
            bitmaps.chunks_of(_unpacked(ids)).get(number, b"") if ids else b"",
            bytes(results) if results else b"",
        )
        for number, ids, results in rows
    }
    # The facet counts of the chunks holding matches, in one query on the bitmaps.
    bits = {
        number: bits
        for number, (bits, _) in found.items()
        if bits and (counted is None or number in counted)
    }
    counts = (
        bitmaps.count_by_chunk(FACETS, filters=query.filters(), within=bitmaps.of_chunks(bits))
        if bits
        else {}
    )
    return {number: (results, counts.get(number, {})) for number, (_, results) in found.items()}


def _unpacked(packed: bytes | None) -> array.array:
    """Ids sent as ``string_agg(int8send(id), '')``: 8-byte big-endian integers (ids are bigint)."""
    ids = array.array("q")
    if packed:
        ids.frombytes(packed)
        if sys.byteorder == "little":
            ids.byteswap()
    return ids


def _facet_counts(query: CatalogueQuery, matches: TextMatches | None) -> dict[str, dict]:
    """For each facet, the number of listings per value under every *other* filter, counted
    on the catalogue's bitmaps (exchange.bitmaps): one query, whose time hardly grows with
    the catalogue. A text query's are counted within its matches, chunk by chunk, with them
    (``_chunk_matches``), and added up."""
    if matches is not None:
        counts = matches.counts()
    else:
        counts = bitmaps.count(FACETS, filters=query.filters())
    for name in ("country", "focus_area", "sdg"):
        counts[name] = {int(value): n for value, n in counts[name].items()}
    return counts


def catalogue(query: CatalogueQuery, *also: str) -> CataloguePage:
    """One page of the published catalogue with its facet counts.

    Both are cached until the catalogue changes (a listing published, withdrawn, expired,
    revised; an institution or the reference data changed): the facet counts by filters,
    shared by every page and order of them, and each page. ``also`` names other parts the
    caller will read with ``catalogue_cached``: all are read from the cache at once.
    """
    page_key = f"page:{query.cache_key()}:{query.sort}:{query.page}"
    caching.catalogue_prefetch(page_key, _facets_key(query), *also)
    return caching.catalogue_cached(page_key, lambda: _catalogue_page(query))


def _facets_key(query: CatalogueQuery) -> str:
    return f"facets:{query.cache_key()}"


@functools.lru_cache(maxsize=512)
def _rows_statement(query: CatalogueQuery | None, offset: int) -> tuple[str, tuple]:
    """The SQL and parameters reading a page of results from ``offset``: those of ``query``
    (``filter_listings``, in its order), or, for None, the listings of ids given as the one
    parameter. Compiled by the ORM once per query and kept in this process, as SQLAlchemy
    keeps the statements it compiled: building and compiling the query took 1 ms of Python
    for 0.5 ms of SQL."""
    if query is None:
        listings = Listing.objects.filter(pk__any_of=[0])
    else:
        listings = _filtered(query).order_by(*(SORTS.get(query.sort) or SORTS["newest"]))
    rows = listings.values_list(*CATALOGUE_ROW_COLUMNS)[offset : offset + PAGE_SIZE]
    sql, params = rows.query.sql_with_params()
    if query is None:
        assert params == (array_literal([0]),), params  # the ids, as ``pk__any_of`` binds them
    return sql, tuple(params)


def _catalogue_page(query: CatalogueQuery) -> CataloguePage:
    search_query = search.search_query(query.q) if query.q else None
    # A text query's matches are read once, when first needed, for both the facet counts
    # and the results (which by title are ordered in SQL, and so need them only for counts).
    matches = functools.cache(
        lambda: _text_matches(query, search_query) if search_query is not None else None
    )
    facets = caching.catalogue_cached(_facets_key(query), lambda: _facet_counts(query, matches()))
    kinds = facets["kind"]
    total = sum(n for kind, n in kinds.items() if not query.kind or kind in query.kind)
    ranked = search_query is not None and query.sort == "relevance"
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(query.page, 1), pages)
    offset = (page - 1) * PAGE_SIZE
    ids = None
    if search_query is not None and query.sort != "title":
        # Only this page's rows are then read with their institution and country.
        ids = matches().page_ids(page)
    if ids is None:
        sql, params = _rows_statement(dataclasses.replace(query, page=1), offset)
    else:
        sql, params = _rows_statement(None, 0)
        params = (array_literal(ids),)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [CatalogueRow(*values) for values in cursor.fetchall()]
    if ids is not None:
        position = {pk: index for index, pk in enumerate(ids)}
        rows.sort(key=lambda row: position[row.pk])
    return CataloguePage(
        listings=rows,
        total=total,
        facets=facets,
        query=query,
        page=page,
        pages=pages,
        ranked=ranked,
    )


def catalogue_listings(query: CatalogueQuery) -> QuerySet[Listing]:
    """Every published listing the catalogue shows for ``query`` (all pages), in its order:
    what the catalogue's downloads export."""
    listings = _filtered(query)
    search_query = search.search_query(query.q) if query.q else None
    if search_query is not None and query.sort == "relevance":
        return listings.annotate(rank=search.rank(search_query)).order_by(
            "-rank", "-published_at", "-id"
        )
    return listings.order_by(*(SORTS.get(query.sort) or SORTS["newest"]))
