"""The reads of the exchange that matter: reference data, visibility, listing pages and their
history, similar listings, dashboards and country profiles. The published catalogue's reads
live in ``exchange.catalogue``, statistics and matches in ``exchange.statistics`` and
``exchange.matching``; what of them is kept in the cache, and until when, in
``exchange.caching``."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import TrigramSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Country, Institution, User
from accounts.rules import is_mission_liaison, is_secretariat, is_staff_reader
from exchange import caching
from exchange.models import (
    SDG,
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
    in this process, as ``exchange.catalogue._rows_statement``: building and compiling the
    query took 1.2 ms of Python for 0.9 ms of SQL, on the page of a listing whose whole SQL
    takes 6 ms at 100,000 listings (tests/bench/exchange.py)."""
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


def recent_imports(user: User, *, limit: int = 10) -> list[ImportJob]:
    """The imports on a person's import page: the Secretariat's own (it imports for many
    institutions), the institution's for everyone else."""
    jobs = ImportJob.objects.select_related("institution", "created_by")
    if is_secretariat(user):
        jobs = jobs.filter(created_by=user)
    else:
        jobs = jobs.filter(institution=user.institution_id)
    return list(jobs.order_by("-created", "-id")[:limit])
