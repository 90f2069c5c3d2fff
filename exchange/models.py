"""The cooperation exchange: reference data, listings (offers and needs), their documents,
revisions and history, and the connections that grow from expressed interest."""

from __future__ import annotations

from collections.abc import Callable

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Country, Institution, TranslatedNameMixin
from exchange import bitmaps, search
from exchange.text import fold_sql

# Kept by PostgreSQL itself, so that every write (bulk ones included) updates the search
# fields: the listing's own language configuration for stemming, 'simple' for names. Each
# text is folded once (folding is most of the trigger's cost).
_INSTITUTION_NAME = (
    "coalesce((SELECT name FROM accounts_institution WHERE id = NEW.institution_id), '')"
)
SEARCH_TRIGGER_SQL = f"""
    folded_title := {fold_sql("coalesce(NEW.title, '')")};
    folded_summary := {fold_sql("coalesce(NEW.summary, '')")};
    NEW.search_text := folded_title || ' ' || folded_summary;
    NEW.search_vector :=
        setweight(to_tsvector(cfg, folded_title), 'A')
        || setweight(to_tsvector(cfg, folded_summary), 'B')
        || setweight(to_tsvector(cfg, {fold_sql("coalesce(NEW.description, '')")}), 'C')
        || setweight(
            to_tsvector('simple'::regconfig, folded_title || ' ' || {fold_sql(_INSTITUTION_NAME)}),
            'D'
        );
    RETURN NEW;
"""
SEARCH_TRIGGER_DECLARE = [
    (
        "cfg",
        "regconfig := CASE NEW.language WHEN 'es' THEN 'spanish'::regconfig "
        "WHEN 'pt' THEN 'portuguese'::regconfig WHEN 'fr' THEN 'french'::regconfig "
        "ELSE 'english'::regconfig END",
    ),
    ("folded_title", "text"),
    ("folded_summary", "text"),
]


def _while_published(prefix: str, func: str, declare=None) -> list[pgtrigger.Trigger]:
    """Triggers running ``func`` after every insert, update and delete of a listing that is
    or was published (the catalogue's derived tables), and after no other."""
    return [
        pgtrigger.Trigger(
            name=f"{prefix}_{name}",
            operation=operation,
            when=pgtrigger.After,
            condition=condition,
            declare=declare,
            func=func,
        )
        for name, operation, condition in [
            ("insert", pgtrigger.Insert, pgtrigger.Q(new__status="published")),
            (
                "update",
                pgtrigger.Update,
                pgtrigger.Q(old__status="published") | pgtrigger.Q(new__status="published"),
            ),
            ("delete", pgtrigger.Delete, pgtrigger.Q(old__status="published")),
        ]
    ]


class FocusArea(TranslatedNameMixin):
    """A CooperaNet focus area ('área de enfoque'), from the OAS development mandates."""

    slug = models.SlugField(_("identifier"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        ordering = ["position", "slug"]


class SDG(TranslatedNameMixin):
    """One of the 17 Sustainable Development Goals."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)

    class Meta:
        verbose_name = _("Sustainable Development Goal")
        verbose_name_plural = _("Sustainable Development Goals")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


def path_parts(view: str, argument: str, sentinel: str) -> tuple[str, str]:
    """What comes before and after ``argument`` (a one-segment value; ``sentinel`` must
    match its pattern) in the paths of ``view``: one ``reverse`` for all the listings,
    countries or tables of a page, where a ``reverse`` each took 20 µs (0.4 ms for the
    catalogue's 20 results)."""
    prefix, suffix = reverse(view, kwargs={argument: sentinel}).split(sentinel)
    return prefix, suffix


def listing_paths() -> Callable[[int], str]:
    """A function giving the path of a listing's page from its id."""
    prefix, suffix = path_parts("exchange:listing", "pk", "987654321")
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


def country_paths() -> Callable[[str], str]:
    """A function giving the path of a country's profile from its ISO 3166 alpha-3 code."""
    prefix, suffix = path_parts("exchange:country", "iso3", "XQZ")
    return lambda iso3: f"{prefix}{iso3}{suffix}"


# History of every change to a listing, written by a Postgres trigger (so bulk updates are
# kept too) with the acting user and action from pghistory's context (see services).
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["search_vector", "search_text", "updated"],
    model_name="ListingEvent",
)
class Listing(models.Model):
    """A cooperation offer or need, published by an institution after moderation."""

    class Kind(models.TextChoices):
        OFFER = "offer", _("Offer")
        NEED = "need", _("Need")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        RETURNED = "returned", _("Returned with comments")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")
        ARCHIVED = "archived", _("Archived")

    class Language(models.TextChoices):
        EN = "en", _("English")
        ES = "es", _("Spanish")
        PT = "pt", _("Portuguese")
        FR = "fr", _("French")

    class Modality(models.TextChoices):
        SOUTH_SOUTH = "south_south", _("South-South")
        TRIANGULAR = "triangular", _("Triangular")
        BILATERAL = "bilateral", _("Bilateral")
        MULTILATERAL = "multilateral", _("Multilateral")
        REGIONAL = "regional", _("Regional")

    class CooperationType(models.TextChoices):
        TECHNICAL_ASSISTANCE = "technical_assistance", _("Technical assistance")
        CAPACITY_BUILDING = "capacity_building", _("Capacity building")
        EXPERT_EXCHANGE = "expert_exchange", _("Exchange of experts")
        INTERNSHIP = "internship", _("Internship")
        SCHOLARSHIP = "scholarship", _("Scholarship")
        FINANCING = "financing", _("Financing")
        KNOWLEDGE_SHARING = "knowledge_sharing", _("Sharing of good practices")

    class Stage(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        IN_EXECUTION = "in_execution", _("In execution")
        CONCLUDED = "concluded", _("Concluded (good practice)")

    class Region(models.TextChoices):
        CARIBBEAN = "caribbean", _("Caribbean")
        CENTRAL_AMERICA = "central_america", _("Central America")
        SOUTH_AMERICA = "south_america", _("South America")
        NORTH_AMERICA = "north_america", _("North America")
        AMERICAS = "americas", _("The Americas (all Member States)")

    class PublisherType(models.TextChoices):
        MEMBER_STATE = "member_state", _("Member State")
        PARTNER = "partner", _("Partner")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), max_length=600)
    description = models.TextField(
        _("description"), max_length=20000, help_text=_("Markdown: **bold**, lists, links.")
    )
    language = models.CharField(
        _("language of the content"), max_length=2, choices=Language.choices
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("publishing institution"),
        on_delete=models.PROTECT,
        related_name="listings",
    )
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        related_name="listings",
        null=True,
        blank=True,
    )
    publisher_type = models.CharField(
        _("publisher type"), max_length=12, choices=PublisherType.choices
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    beneficiary_countries = models.ManyToManyField(
        Country, verbose_name=_("beneficiary countries"), related_name="+", blank=True
    )
    beneficiary_regions = ArrayField(
        models.CharField(max_length=20, choices=Region.choices),
        verbose_name=_("beneficiary regions"),
        default=list,
        blank=True,
    )
    focus_areas = models.ManyToManyField(
        FocusArea, verbose_name=_("focus areas"), related_name="listings"
    )
    sdgs = models.ManyToManyField(
        SDG, verbose_name=_("Sustainable Development Goals"), related_name="listings", blank=True
    )
    modality = models.CharField(_("modality"), max_length=16, choices=Modality.choices, blank=True)
    cooperation_type = models.CharField(
        _("type of cooperation"), max_length=24, choices=CooperationType.choices, blank=True
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, blank=True)
    duration_months = models.PositiveSmallIntegerField(
        _("duration (months)"), null=True, blank=True
    )
    cost_sharing = models.TextField(
        _("cost sharing"),
        blank=True,
        max_length=2000,
        help_text=_("Which costs the publisher covers; it need not cover them all."),
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    external_ref = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_("The identifier of this listing in a national catalogue."),
    )
    review_by = models.DateField(
        _("review by"),
        null=True,
        blank=True,
        help_text=_("After this date the listing leaves the catalogue until it is renewed."),
    )
    moderation_comment = models.TextField(_("comment of the Secretariat"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    # Denormalised for search and matching; kept current by exchange.search on every save.
    focus_area_ids = ArrayField(models.IntegerField(), default=list, editable=False)
    sdg_numbers = ArrayField(models.SmallIntegerField(), default=list, editable=False)
    beneficiary_ids = ArrayField(models.IntegerField(), default=list, editable=False)
    search_text = models.TextField(default="", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["-published_at", "-id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="listing_search_idx"),
            GinIndex(
                fields=["search_text"], name="listing_trigram_idx", opclasses=["gin_trgm_ops"]
            ),
            GinIndex(fields=["focus_area_ids"], name="listing_focus_areas_idx"),
            GinIndex(fields=["sdg_numbers"], name="listing_sdgs_idx"),
            models.Index(
                fields=["kind", "-published_at"],
                condition=models.Q(status="published"),
                name="listing_published_idx",
            ),
            # A narrow covering index: the API's published counts (selectors.count_visible)
            # read it alone (an index-only scan) instead of the wide rows. Facet counts and
            # statistics read the catalogue's bitmaps (exchange.bitmaps).
            models.Index(
                fields=["status", "published_at"],
                include=[
                    "kind",
                    "publisher_type",
                    "country",
                    "language",
                    "modality",
                    "cooperation_type",
                    "focus_area_ids",
                    "sdg_numbers",
                ],
                name="listing_counts_idx",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="listing_search_fields",
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("title", "summary", "description", "language"),
                when=pgtrigger.Before,
                declare=SEARCH_TRIGGER_DECLARE,
                func=SEARCH_TRIGGER_SQL,
            ),
            # The bitmaps of the published catalogue (exchange.bitmaps), kept in the same
            # transaction; the conditions spare drafts (imports write thousands) any work.
            *_while_published("listing_bitmaps", bitmaps.SYNC_SQL, bitmaps.SYNC_DECLARE),
            # Its CatalogueEntry (exchange.search), likewise.
            *_while_published("listing_catalogue_entry", search.ENTRY_SYNC_SQL),
            # And its chunk's version (CatalogueChunk).
            *_while_published(
                "listing_catalogue_chunk", bitmaps.CHUNK_CHANGED_SQL, bitmaps.CHUNK_CHANGED_DECLARE
            ),
            pgtrigger.Trigger(
                name="listing_bitmaps_truncate",
                operation=pgtrigger.Truncate,
                when=pgtrigger.After,
                level=pgtrigger.Statement,
                func=(
                    f"DELETE FROM exchange_listingbitmap; {bitmaps.CHUNKS_EMPTIED_SQL} RETURN NULL;"
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="listing_unique_external_ref",
            ),
            # The catalogue's month terms and the statistics' date ranges read it.
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                name="listing_published_has_date",
                violation_error_message=_("A published listing needs its publication date."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exchange:listing", kwargs={"pk": self.pk})

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def set_related_arrays(self, *, focus_areas=None, sdgs=None, beneficiary_countries=None):
        """Mirror related rows into the GIN-indexed arrays that facets and matching read.

        Set them with the rows, before the save that writes the listing, so the history keeps
        one event per change. ``None`` leaves an array as it is.
        """
        if focus_areas is not None:
            self.focus_area_ids = sorted(area.pk for area in focus_areas)
        if sdgs is not None:
            self.sdg_numbers = sorted(goal.number for goal in sdgs)
        if beneficiary_countries is not None:
            self.beneficiary_ids = sorted(country.pk for country in beneficiary_countries)


ListingEvent = Listing.events.rel.related_model


def _document_path(document: ListingDocument, filename: str) -> str:
    return f"listings/{document.listing_id}/{document.token}/{filename}"


class BitsField(models.Field):
    """A PostgreSQL ``bit varying``, read and written as a string of 0 and 1."""

    def db_type(self, connection) -> str:
        return "bit varying"


class ListingBitmap(models.Model):
    """One chunk of the bitmap of one term of the published catalogue (exchange.bitmaps):
    written by the triggers of Listing only."""

    pk = models.CompositePrimaryKey("facet", "value", "chunk")
    facet = models.CharField(max_length=24)
    value = models.CharField(max_length=40)
    chunk = models.IntegerField()
    bits = BitsField()

    class Meta:
        verbose_name = _("catalogue bitmap")
        verbose_name_plural = _("catalogue bitmaps")

    def __str__(self) -> str:
        return f"{self.facet}={self.value} ({self.chunk})"


class CatalogueEntry(models.Model):
    """A published listing's search fields, for the catalogue's text queries: one narrow
    row per published listing, written by the triggers of Listing only (exchange.search).

    A text query reads the id, date and relevance of every match. Read from the listings,
    that visited 4,382 of their 10,000 pages for the 6,913 matches of "agua potable" at
    100,000 listings; these rows hold no long text and visit 2,700 smaller ones."""

    listing = models.OneToOneField(
        Listing, on_delete=models.DO_NOTHING, primary_key=True, related_name="+"
    )
    published_at = models.DateTimeField()
    # The title and summary part of the vector, which relevance weighs (search.HEAD_SQL).
    head = SearchVectorField()
    vector = SearchVectorField()

    class Meta:
        verbose_name = _("catalogue search entry")
        verbose_name_plural = _("catalogue search entries")
        indexes = [GinIndex(fields=["vector"], name="catalogue_entry_vector_idx")]

    def __str__(self) -> str:
        return str(self.listing_id)


class CatalogueChunk(models.Model):
    """The version of one chunk of the published catalogue (the listings of ids
    ``chunk * CHUNK_BITS`` to ``(chunk + 1) * CHUNK_BITS - 1``, exchange.bitmaps): a new
    number whenever one of them that is or was published changes, written by the triggers
    of Listing only. What is kept per chunk (a text query's matches, exchange.catalogue) is
    kept under this number, and so is computed again for the chunks that changed only."""

    chunk = models.IntegerField(primary_key=True)
    version = models.BigIntegerField()

    class Meta:
        verbose_name = _("catalogue chunk")
        verbose_name_plural = _("catalogue chunks")

    def __str__(self) -> str:
        return f"{self.chunk}: {self.version}"


# Files added to and removed from a listing, and proposed files made public, for its history.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    fields=["listing", "name", "revision"],
    model_name="ListingDocumentEvent",
    obj_field=pghistory.ObjForeignKey(related_name="events"),
)
class ListingDocument(models.Model):
    """A file attached to a listing, checked by content and always served as a download."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("listing"), on_delete=models.CASCADE, related_name="documents"
    )
    token = models.CharField(max_length=32, editable=False)
    file = models.FileField(_("file"), upload_to=_document_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)
    # A file added to a published listing is a change like any other: it waits, with the
    # revision that proposes it, for the Secretariat, and is public once that is approved.
    revision = models.ForeignKey(
        "ListingRevision",
        verbose_name=_("proposed by"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_proposed(self) -> bool:
        return self.revision_id is not None


# Each proposal (a second one while the first waits replaces its values) and each decision
# on it, for the listing's history.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=["listing", "status", "data", "comment"],
    model_name="ListingRevisionEvent",
    obj_field=pghistory.ObjForeignKey(related_name="events"),
)
class ListingRevision(models.Model):
    """A change to a published listing, waiting for the Secretariat; the live text stays."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned with comments")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    listing = models.ForeignKey(
        Listing, verbose_name=_("listing"), on_delete=models.CASCADE, related_name="revisions"
    )
    data = models.JSONField(_("proposed values"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment of the Secretariat"), blank=True)
    created = models.DateTimeField(_("submitted"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"],
                condition=models.Q(status="pending"),
                name="one_pending_revision_per_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing} ({self.get_status_display()})"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), model_name="ConnectionEvent")
class Connection(models.Model):
    """An institution's interest in a listing, followed until cooperation is realised."""

    class Status(models.TextChoices):
        INTERESTED = "interested", _("Interested")
        IN_TALKS = "in_talks", _("In talks")
        AGREED = "agreed", _("Agreed")
        IN_EXECUTION = "in_execution", _("In execution")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {
        Status.INTERESTED: (Status.IN_TALKS, Status.CLOSED),
        Status.IN_TALKS: (Status.AGREED, Status.CLOSED),
        Status.AGREED: (Status.IN_EXECUTION, Status.CLOSED),
        Status.IN_EXECUTION: (Status.COMPLETED, Status.CLOSED),
        Status.COMPLETED: (),
        Status.CLOSED: (),
    }

    listing = models.ForeignKey(
        Listing, verbose_name=_("listing"), on_delete=models.PROTECT, related_name="connections"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("interested institution"),
        on_delete=models.PROTECT,
        related_name="connections",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField(_("message"), max_length=4000)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.INTERESTED
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["-updated", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "institution"], name="one_connection_per_institution"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} → {self.listing}"


# --- Imports of national catalogues (see exchange.imports) -----------------------------------


def _import_path(job: ImportJob, filename: str) -> str:
    return f"imports/{job.institution_id}/{job.token}/{filename}"


class ImportMapping(models.Model):
    """The column mapping an institution used last, offered again on its next import."""

    institution = models.OneToOneField(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.CASCADE,
        related_name="import_mapping",
    )
    mapping = models.JSONField(_("columns"), default=dict)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")

    def __str__(self) -> str:
        return str(self.institution)


class ImportJob(models.Model):
    """One uploaded file on its way into an institution's listings: mapped, previewed,
    confirmed, then written (by a Celery task when it is large)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        MAPPED = "mapped", _("Columns mapped")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    token = models.CharField(max_length=32, editable=False)
    file = models.FileField(_("file"), upload_to=_import_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=200)
    format = models.CharField(_("format"), max_length=4)
    default_kind = models.CharField(
        _("kind of listings"), max_length=8, choices=Listing.Kind.choices
    )
    headers = models.JSONField(_("columns of the file"), default=list)
    mapping = models.JSONField(_("mapping"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    outcomes = models.JSONField(_("outcomes"), default=dict, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("exchange:import_status", kwargs={"pk": self.pk})

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
