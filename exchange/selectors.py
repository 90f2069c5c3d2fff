"""The reads of the exchange that matter: visibility, the catalogue and its facets, listing
pages, similar listings, dashboards and country profiles. Statistics and matches live in
``exchange.statistics`` and ``exchange.matching``; what of them is kept in the cache, and
until when, in ``exchange.caching``."""

from __future__ import annotations

import array
import dataclasses
import functools
import hashlib
import heapq
import itertools
import secrets
import struct
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    F,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Country, Institution, User
from accounts.rules import is_mission_liaison, is_secretariat, is_staff_reader
from cooperanet.lookups import array_literal
from exchange import bitmaps, caching, search
from exchange.models import (
    SDG,
    CatalogueEntry,
    Connection,
    FocusArea,
    ImportJob,
    Listing,
    ListingDocument,
    ListingDocumentEvent,
    ListingEvent,
    ListingRevision,
    ListingRevisionEvent,
)
from exchange.rules import acts_for_an_institution
from exchange.text import fold

Status = Listing.Status
PAGE_SIZE = 20
# --- Reference data, cached ------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceNames:
    """The names of the reference data in one language, by id (an SDG's with its number)."""

    countries: dict[int, str]
    focus_areas: dict[int, str]
    sdgs: dict[int, str]


@dataclass(frozen=True)
class Reference:
    countries: dict[int, Country]
    focus_areas: dict[int, FocusArea]
    sdgs: dict[int, SDG]

    def names(self) -> ReferenceNames:
        """The names in the active language, made once per language and process: a page
        names up to 66 of them (the statistics), and each name looks the language up."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        # Kept beside the fields (as cached_property does), not in a field: this object is
        # also read back from the cache, where one pickled before the field existed lacks it.
        by_language = self.__dict__.setdefault("_names", {})
        names = by_language.get(language)
        if names is None:
            names = by_language[language] = ReferenceNames(
                countries={pk: country.name for pk, country in self.countries.items()},
                focus_areas={pk: area.name for pk, area in self.focus_areas.items()},
                sdgs={number: str(goal) for number, goal in self.sdgs.items()},
            )
        return names

    @functools.cached_property
    def facet_values(self) -> dict[str, dict[str, object]]:
        """For each facet of the catalogue, what its parameter may say and the value each
        stands for (an ISO code for a country's id, a slug for a focus area's): kept with the
        reference data, where building it took a tenth of a millisecond per page."""
        return {
            "kind": {value: value for value in Listing.Kind.values},
            "country": {c.iso3: c.pk for c in self.countries.values()},
            "focus_area": {a.slug: a.pk for a in self.focus_areas.values()},
            "sdg": {str(number): number for number in self.sdgs},
            "modality": {value: value for value in Listing.Modality.values},
            "cooperation_type": {value: value for value in Listing.CooperationType.values},
            "language": {value: value for value in Listing.Language.values},
            "publisher_type": {value: value for value in Listing.PublisherType.values},
        }

    def country_by_iso3(self) -> dict[str, Country]:
        return {country.iso3: country for country in self.countries.values()}

    def focus_area_by_slug(self) -> dict[str, FocusArea]:
        return {area.slug: area for area in self.focus_areas.values()}


_memo: dict = {}


def reference() -> Reference:
    """Countries, focus areas and SDGs: three small tables, read once and kept in the cache
    (and in this process) until one of them changes (see exchange.signals)."""
    # A random version (not a counter) so that a flushed cache never meets an old memo.
    version = caching.version(caching.REFERENCE_VERSION_KEY, lambda: secrets.token_hex(8))
    if _memo.get("version") == version:
        return _memo["reference"]
    key = f"exchange:reference:{caching.CACHE_FORMAT}:{version}"
    cached = cache.get(key)
    if cached is None:
        cached = Reference(
            countries={c.pk: c for c in Country.objects.all()},
            focus_areas={a.pk: a for a in FocusArea.objects.all()},
            sdgs={g.number: g for g in SDG.objects.all()},
        )
        # Expiring, so that the entries of older versions go (and, under Redis' memory
        # limit, may be evicted: this is read again on a miss).
        cache.set(key, cached, caching.REFERENCE_CACHE_SECONDS)
    _memo.update(version=version, reference=cached)
    return cached


# --- Visibility ------------------------------------------------------------------------------


def listings_visible_to(user: User) -> QuerySet[Listing]:
    """Every listing ``user`` may open: the published ones, and more for insiders.

    The publisher's people see their institution's listings in every state; a mission liaison
    sees its country's (``country_listings``); the Secretariat and board members see all.
    """
    listings = Listing.objects.all()
    if is_staff_reader(user):
        return listings
    visible = Q(status=Status.PUBLISHED)
    if acts_for_an_institution(user):
        visible |= Q(institution_id=user.institution_id)
    if is_mission_liaison(user):
        visible |= _of_country(user.institution.country_id)
    return listings.filter(visible)


def sees_only_published(user: User) -> bool:
    """Whether ``listings_visible_to(user)`` is the published catalogue alone, which
    ``catalogue_cached`` may then keep for everybody."""
    return not user.is_authenticated


def count_visible(user: User, listings: QuerySet[Listing], *, key: str) -> int:
    """How many ``listings`` there are (``listings_visible_to(user)``, filtered): the
    published ones counted once per change of the catalogue (``key`` names the filters), the
    few others (a publisher's own drafts) live. At 100,000 listings a COUNT of the published
    ones is most of the time of an API page."""
    published = caching.catalogue_cached(
        f"count:{key}", lambda: listings.filter(status=Status.PUBLISHED).count()
    )
    if sees_only_published(user):
        return published
    # Named statuses, not "other than published": the status index finds those few rows.
    others = [status for status in Status.values if status != Status.PUBLISHED]
    return published + listings.filter(status__in=others).count()


# Columns no page shows: the search vector and folded text are read by PostgreSQL alone,
# and, stored out of line, would each cost a TOAST read per row.
SEARCH_FIELDS = ("search_vector", "search_text")
# ... and the description, for lists of listings.
LONG_FIELDS = (*SEARCH_FIELDS, "description")


def listing_for_page(user: User, pk: int) -> Listing | None:
    """A listing with what its page shows, or None when it does not exist for ``user``.

    What a visitor who is not signed in sees is the same for all of them, and is kept until
    the catalogue changes (its documents and revisions change it too, exchange.signals)."""
    if sees_only_published(user):
        return caching.catalogue_cached(listing_key(pk), lambda: _listing_for_page(user, pk))
    return _listing_for_page(user, pk)


def listing_key(pk: int) -> str:
    """The key of a listing's page data for visitors in ``catalogue_cached``."""
    return f"listing:{pk}"


# Whether a listing has a pending revision (its page, the API), and any document (its page),
# annotated on a query of listings. Written in SQL: building the ORM's EXISTS subqueries and
# the documents' prefetch took 1.5 ms of the 3.3 the listing's query took in Python.
HAS_PENDING_REVISION = RawSQL(  # noqa: S611 - constants and a parameter
    f"EXISTS (SELECT 1 FROM {ListingRevision._meta.db_table} r "  # noqa: S608 - table names
    f"WHERE r.listing_id = {Listing._meta.db_table}.id AND r.status = %s)",
    [ListingRevision.Status.PENDING],
    output_field=BooleanField(),
)
_HAS_DOCUMENTS = RawSQL(  # noqa: S611 - constants only
    f"EXISTS (SELECT 1 FROM {ListingDocument._meta.db_table} d "  # noqa: S608 - table names
    f"WHERE d.listing_id = {Listing._meta.db_table}.id)",
    [],
    output_field=BooleanField(),
)


def _listing_for_page(user: User, pk: int) -> Listing | None:
    if sees_only_published(user):
        sql, params = _published_listing_statement()
        params = (*params[:-1], pk)
    else:
        sql, params = _listing_statement(listings_visible_to(user), pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    listing = _listing_of_row(row)
    if listing.has_documents:
        prefetch_related_objects(
            [listing], Prefetch("documents", ListingDocument.objects.select_related("revision"))
        )
    return listing


# A listing's page reads the listing (its search fields left out), its institution and its
# country, as ``select_related`` would, and whether it has a pending revision and documents.
# Read as values and made into instances with ``Model.from_db``, so that the statement a
# visitor's page runs can be compiled once per process (``_published_listing_statement``).
_PAGE_MODELS = (
    (Listing, "", [f for f in Listing._meta.concrete_fields if f.name not in SEARCH_FIELDS]),
    (Institution, "institution__", Institution._meta.concrete_fields),
    (Country, "country__", Country._meta.concrete_fields),
)
_PAGE_COLUMNS = [
    *(f"{prefix}{field.name}" for _model, prefix, fields in _PAGE_MODELS for field in fields),
    "has_pending_revision",
    "has_documents",
]


def _listing_statement(visible: QuerySet[Listing], pk: int) -> tuple[str, tuple]:
    """The SQL and parameters of the row of listing ``pk`` among ``visible`` (the columns of
    ``_PAGE_COLUMNS``); its last parameter is ``pk``."""
    rows = (
        visible.annotate(has_pending_revision=HAS_PENDING_REVISION, has_documents=_HAS_DOCUMENTS)
        .filter(pk=pk)
        .values_list(*_PAGE_COLUMNS)
    )
    sql, params = rows.query.sql_with_params()
    assert params[-1] == pk, params  # _listing_for_page replaces it
    return sql, tuple(params)


@functools.cache
def _published_listing_statement() -> tuple[str, tuple]:
    """``_listing_statement`` among the published listings, compiled by the ORM once and kept
    in this process, as ``_rows_statement``: building and compiling the query took 1.2 ms of
    Python for 0.9 ms of SQL, on the page of a listing whose whole SQL takes 6 ms at
    100,000 listings (tests/bench/exchange.py)."""
    return _listing_statement(listings_visible_to(AnonymousUser()), 0)


def _listing_of_row(row: tuple) -> Listing:
    """The instances ``select_related`` would have made of a row of ``_listing_statement``
    (no converters to apply: the database driver gives these columns' Python values, which
    a test checks)."""
    instances = []
    start = 0
    for model, _prefix, fields in _PAGE_MODELS:
        values = row[start : start + len(fields)]
        start += len(fields)
        if values[0] is None:  # no country
            instances.append(None)
        else:
            attnames = [field.attname for field in fields]
            instances.append(model.from_db(connection.alias, attnames, values))
    listing, institution, country = instances
    listing.institution, listing.country = institution, country
    listing.has_pending_revision, listing.has_documents = row[start:]
    return listing


def documents_visible_to(user: User, listing: Listing) -> list[ListingDocument]:
    """The documents of ``listing`` (from ``listing_for_page``) that ``user`` may see and
    download: those proposed with a revision only for its publisher and staff."""
    if not getattr(listing, "has_documents", True):
        return []
    documents = listing.documents.all()
    if user.has_perm("exchange.view_proposed_documents", listing):
        return list(documents)
    return [document for document in documents if not document.is_proposed]


def open_revision(listing: Listing) -> ListingRevision | None:
    """The changes the publisher is working on: the pending revision, or the last one the
    Secretariat returned when none was proposed since."""
    latest = listing.revisions.order_by("-created", "-id").first()
    if latest and latest.status in (
        ListingRevision.Status.PENDING,
        ListingRevision.Status.RETURNED,
    ):
        return latest
    return None


# What the services record as the action of a change (pghistory context), as people read it;
# changes made outside them (an insert or update without context) keep pghistory's label.
HISTORY_ACTIONS = {
    "create": gettext_lazy("Created"),
    "insert": gettext_lazy("Created"),
    "edit": gettext_lazy("Edited"),
    "update": gettext_lazy("Changed"),
    "import": gettext_lazy("Imported"),
    "submit": gettext_lazy("Submitted for review"),
    "approve": gettext_lazy("Approved and published"),
    "return": gettext_lazy("Returned with comments"),
    "reject": gettext_lazy("Rejected"),
    "approve revision": gettext_lazy("Changes approved"),
    "withdraw": gettext_lazy("Withdrawn"),
    "renew": gettext_lazy("Renewed"),
    "expire": gettext_lazy("Expired"),
    "archive": gettext_lazy("Archived"),
}


def listing_events(listing: Listing) -> QuerySet[ListingEvent]:
    """The recorded states of a listing, newest first (see ``described_events``)."""
    return (
        ListingEvent.objects.filter(pgh_obj_id=listing.pk)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")
    )


def document_events(listing: Listing) -> QuerySet[ListingDocumentEvent]:
    """The changes to a listing's files, newest first (see ``described_events``)."""
    return (
        ListingDocumentEvent.objects.filter(listing_id=listing.pk)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")
    )


def revision_events(listing: Listing) -> QuerySet[ListingRevisionEvent]:
    """The changes proposed to a listing once published and the Secretariat's decisions on
    them, newest first (see ``described_events``)."""
    return (
        ListingRevisionEvent.objects.filter(listing_id=listing.pk)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")
    )


def _revision_action(event: ListingRevisionEvent):
    if event.status == ListingRevision.Status.PENDING:
        return _("Changes proposed") if event.pgh_label == "insert" else _("Changes proposed again")
    return {
        ListingRevision.Status.APPROVED: _("Changes approved"),
        ListingRevision.Status.RETURNED: _("Changes returned with comments"),
        ListingRevision.Status.REJECTED: _("Changes rejected"),
        ListingRevision.Status.WITHDRAWN: _("Changes closed with the listing"),
    }.get(event.status, event.status)


def _document_action(event: ListingDocumentEvent, action: str):
    if event.pgh_label == "insert":
        return _("Proposed with changes") if event.revision_id else _("Added")
    if event.pgh_label == "delete":
        return _("Rejected with the changes") if action == "reject revision" else _("Removed")
    if event.revision_id:
        return _("Proposed again with the next changes")
    if action == "approve revision":
        return _("Approved with the changes")
    return _("Kept with the listing")


def described_events(
    events: Iterable[ListingEvent],
    documents: Iterable[ListingDocumentEvent] = (),
    revisions: Iterable[ListingRevisionEvent] = (),
) -> list[ListingEvent]:
    """``events`` with who did them (``actor``), what they did (``action``) and the status they
    left, in the reader's language (``status_label``); ``documents`` (document events) and
    ``revisions`` (revision events) get their ``actor`` and ``action`` too, with the same
    query for the people."""
    events, documents, revisions = list(events), list(documents), list(revisions)
    everything = (*events, *documents, *revisions)
    user_ids = {
        (event.pgh_context.metadata or {}).get("user")
        for event in everything
        if event.pgh_context is not None
    }
    users = {u.pk: u for u in User.objects.filter(pk__in={i for i in user_ids if i})}
    for event in everything:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        event.actor = users.get(metadata.get("user"))
        action = metadata.get("action", event.pgh_label)
        if isinstance(event, ListingDocumentEvent):
            event.action = _document_action(event, action)
            continue
        if isinstance(event, ListingRevisionEvent):
            event.action = _revision_action(event)
            continue
        event.action = HISTORY_ACTIONS.get(action, action)
        event.status_label = (
            Status(event.status).label if event.status in Status.values else event.status
        )
    return events


def similar_listings(listing: Listing, *, threshold: float = 0.5) -> list[Listing]:
    """Listings of the same institution whose title and summary read very like this one."""
    text = fold(f"{listing.title} {listing.summary}")
    return list(
        Listing.objects.filter(institution_id=listing.institution_id, kind=listing.kind)
        .exclude(pk=listing.pk)
        .exclude(status__in=[Status.ARCHIVED, Status.REJECTED])
        .annotate(similarity=TrigramSimilarity("search_text", text))
        .filter(similarity__gte=threshold)
        .order_by("-similarity")[:5]
    )


# --- Catalogue -------------------------------------------------------------------------------

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


# --- Dashboards and profiles -----------------------------------------------------------------


def dashboard_listings(user: User) -> QuerySet[Listing]:
    """The listings of a person's dashboard: its country's for a mission liaison (drafts it
    wrote for the Authority included), its institution's for everyone else."""
    if is_mission_liaison(user):
        return country_listings(user.institution.country)
    return institution_listings(user.institution)


def institution_listings(institution: Institution) -> QuerySet[Listing]:
    return (
        Listing.objects.filter(institution=institution)
        .exclude(status=Status.ARCHIVED)
        .select_related("created_by")
        .order_by("-updated", "-id")
    )


def _of_country(country_id: int) -> Q:
    """The listings of a country's Member-State institutions (a partner based there publishes
    for itself): what its mission liaisons read, drafts included (rules.is_liaison_for)."""
    return Q(country_id=country_id, publisher_type=Listing.PublisherType.MEMBER_STATE)


def country_listings(country: Country) -> QuerySet[Listing]:
    """Every listing of a country, drafts included, for its mission liaisons."""
    return (
        Listing.objects.filter(_of_country(country.pk))
        .select_related("institution", "created_by")
        .order_by("-updated", "-id")
    )


def connections_of(institution: Institution) -> QuerySet[Connection]:
    """Connections on both sides: interest the institution showed, and interest in its listings."""
    return (
        Connection.objects.filter(Q(institution=institution) | Q(listing__institution=institution))
        .select_related("listing", "listing__institution", "institution", "created_by")
        .order_by("-updated", "-id")
    )


@dataclass(frozen=True)
class CountryProfile:
    country: Country
    authority: Institution | None
    offers: list[Listing]
    needs: list[Listing]
    offer_count: int
    need_count: int
    connection_count: int


@dataclass(frozen=True)
class InstitutionProfile:
    institution: Institution
    # Published, newest first: the page shows them a page at a time.
    listings: QuerySet[Listing]


def institution_profile(institution: Institution) -> InstitutionProfile:
    """A publisher's public page: who it is and what it has published."""
    return InstitutionProfile(
        institution=institution,
        listings=Listing.objects.filter(institution=institution, status=Status.PUBLISHED).order_by(
            "-published_at", "-id"
        ),
    )


def public_institutions() -> QuerySet[Institution]:
    """Institutions with a public page: Authorities, and partners the Secretariat vetted."""
    return Institution.objects.filter(
        Q(type=Institution.Type.COOPERATION_AUTHORITY)
        | Q(type__in=Institution.PARTNER_TYPES, vetting_status=Institution.Vetting.VETTED)
    ).select_related("country")


def country_profile(country: Country, *, limit: int = 20) -> CountryProfile:
    authority = Institution.objects.filter(
        type=Institution.Type.COOPERATION_AUTHORITY, country=country
    ).first()
    published = Listing.objects.filter(country=country, status=Status.PUBLISHED).select_related(
        "institution"
    )
    offers = list(published.filter(kind=Listing.Kind.OFFER).order_by("-published_at")[:limit])
    needs = list(published.filter(kind=Listing.Kind.NEED).order_by("-published_at")[:limit])
    counts = {
        row["kind"]: row["n"] for row in published.order_by().values("kind").annotate(n=Count("pk"))
    }
    connections = Connection.objects.filter(listing__country=country).count()
    return CountryProfile(
        country=country,
        authority=authority,
        offers=offers,
        needs=needs,
        offer_count=counts.get(Listing.Kind.OFFER, 0),
        need_count=counts.get(Listing.Kind.NEED, 0),
        connection_count=connections,
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


def recent_imports(user: User, *, limit: int = 10) -> list[ImportJob]:
    """The imports on a person's import page: the Secretariat's own (it imports for many
    institutions), the institution's for everyone else."""
    jobs = ImportJob.objects.select_related("institution", "created_by")
    if is_secretariat(user):
        jobs = jobs.filter(created_by=user)
    else:
        jobs = jobs.filter(institution=user.institution_id)
    return list(jobs.order_by("-created", "-id")[:limit])
