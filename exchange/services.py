"""Every change to listings, their revisions and documents, and to connections.

Each function takes the acting user (``by``), checks the permission named in
``exchange/rules.py``, validates, writes in a transaction under a pghistory context (so the
history says who did what), and schedules its notifications on commit.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as database
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Country, Institution, Notification, User
from accounts.services import notifications_notify_institution
from exchange import selectors
from exchange.documents import check_upload
from exchange.models import SDG, Connection, FocusArea, Listing, ListingDocument, ListingRevision
from exchange.rules import MODERATED_FROM, REVISED_STATUSES, is_editable, revision_decisions

Status = Listing.Status
Kind = User.NotificationKind
REVIEW_PERIOD = datetime.timedelta(days=365)
# How long before its review-by date a publisher is reminded to renew a listing.
REVIEW_REMINDER = datetime.timedelta(days=30)

SCALAR_FIELDS = (
    "title",
    "summary",
    "description",
    "language",
    "modality",
    "cooperation_type",
    "stage",
    "duration_months",
    "cost_sharing",
    "contact_name",
    "contact_email",
    "external_ref",
    "review_by",
    "beneficiary_regions",
)
RELATED_FIELDS = {
    "focus_areas": FocusArea,
    "sdgs": SDG,
    "beneficiary_countries": Country,
}
REQUIRED_ON_SUBMIT = ("modality", "cooperation_type", "stage", "contact_email")


def _require(user, permission: str, obj=None) -> None:
    if not user.has_perm(permission, obj):
        raise PermissionDenied(_("You are not allowed to do this."))


def _history(by: User, action: str):
    return pghistory.context(user=by.pk, action=action)


@dataclass(frozen=True)
class ListingData:
    """Values for a listing, as cleaned by a form or serializer; related rows as objects."""

    values: dict
    focus_areas: list[FocusArea] | None = None
    sdgs: list[SDG] | None = None
    beneficiary_countries: list[Country] | None = None

    @classmethod
    def from_cleaned(cls, cleaned: dict) -> ListingData:
        return cls(
            values={key: cleaned[key] for key in SCALAR_FIELDS if key in cleaned},
            focus_areas=_listed(cleaned.get("focus_areas")),
            sdgs=_listed(cleaned.get("sdgs")),
            beneficiary_countries=_listed(cleaned.get("beneficiary_countries")),
        )

    def related(self) -> dict[str, list | None]:
        return {name: getattr(self, name) for name in RELATED_FIELDS}


def _listed(values: Iterable | None) -> list | None:
    return None if values is None else list(values)


NULLABLE_FIELDS = frozenset({"duration_months", "review_by"})


def _set_values(listing: Listing, values: dict) -> None:
    """Set scalar values; an empty text field is "", an empty number or date is None."""
    for key, value in values.items():
        setattr(listing, key, "" if value is None and key not in NULLABLE_FIELDS else value)


def _validate(listing: Listing, data: ListingData, *, matched: bool = False) -> None:
    """Set and validate scalar values and related arrays of ``listing``, without saving.

    ``matched``: the caller found the listing by its institution and external reference and
    set the institution itself, so the per-row queries of foreign-key and constraint checks
    are skipped (imports validate thousands of rows).
    """
    _set_values(listing, data.values)
    if matched:
        # A new listing is checked whole; a stored one on the values given (the rest was
        # checked when it was saved). The service set institution, country and author.
        exclude = (
            ["created_by", "institution", "country"]
            if listing.pk is None
            else [f.name for f in Listing._meta.fields if f.name not in data.values]
        )
        listing.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    else:
        listing.full_clean(exclude=["created_by"])
    if data.focus_areas is not None and not data.focus_areas:
        raise ValidationError({"focus_areas": _("Choose at least one focus area.")})
    if listing.pk is None and not data.focus_areas:
        raise ValidationError({"focus_areas": _("Choose at least one focus area.")})
    listing.set_related_arrays(**data.related())


def _apply(listing: Listing, data: ListingData, *, matched: bool = False) -> None:
    """Validate and save scalar values and related rows of ``listing``."""
    _validate(listing, data, matched=matched)
    listing.save()
    for name, rows in data.related().items():
        if rows is not None:
            getattr(listing, name).set(rows)


def _publishing_institution(by: User) -> Institution:
    """The institution a new listing belongs to; a mission liaison drafts for its Authority."""
    if by.role == User.Role.MISSION_LIAISON:
        authority = Institution.objects.filter(
            type=Institution.Type.COOPERATION_AUTHORITY, country=by.institution.country_id
        ).first()
        if authority is None:
            raise ValidationError(_("Your country has no Cooperation Authority on CooperaNet yet."))
        return authority
    return by.institution


@transaction.atomic
def listing_create(*, by: User, kind: str, data: ListingData) -> Listing:
    """Save a new draft of the acting person's institution (offers only for partners)."""
    _require(by, "exchange.create_listing")
    if kind == Listing.Kind.NEED:
        _require(by, "exchange.create_need")
    if kind not in Listing.Kind.values:
        raise ValidationError({"kind": _("Choose offer or need.")})
    listing = _new_listing(by=by, kind=kind, institution=_publishing_institution(by))
    with _history(by, "create"):
        _apply(listing, data)
    return listing


def _new_listing(*, by: User, kind: str, institution: Institution) -> Listing:
    """An unsaved draft of ``institution``, written by ``by``."""
    return Listing(
        kind=kind,
        institution=institution,
        country=institution.country,
        publisher_type=(
            Listing.PublisherType.PARTNER
            if institution.is_partner
            else Listing.PublisherType.MEMBER_STATE
        ),
        created_by=by,
        status=Status.DRAFT,
    )


@transaction.atomic
def listing_update(*, listing: Listing, by: User, data: ListingData) -> Listing | ListingRevision:
    """Change a listing; for a published one, propose a revision and keep the live text."""
    _require(by, "exchange.edit_listing", listing)
    if listing.status in REVISED_STATUSES:
        return _revision_propose(listing=listing, by=by, data=data)
    with _history(by, "edit"):
        _apply(listing, data)
    return listing


def _revision_propose(*, listing: Listing, by: User, data: ListingData) -> ListingRevision:
    return _revision_save(listing=listing, by=by, payload=_revision_payload(listing, data))


def _revision_payload(listing: Listing, data: ListingData) -> dict:
    """The validated values a revision of ``listing`` would propose: ``data`` over what its
    open revision (pending, or returned to the publisher) proposes, else over the live
    values. The edit form shows and sends them all; an API client may send one field per
    request, and none of the earlier ones is lost."""
    # Validate the proposal on a copy so that nothing of the live listing changes.
    proposed = Listing.objects.get(pk=listing.pk)
    revision = selectors.open_revision(listing)
    earlier = revision.data if revision else {}
    _set_values(proposed, {key: earlier[key] for key in SCALAR_FIELDS if key in earlier})
    _set_values(proposed, data.values)
    proposed.full_clean(exclude=["created_by"])
    if data.focus_areas is not None and not data.focus_areas:
        raise ValidationError({"focus_areas": _("Choose at least one focus area.")})
    payload = _payload(proposed, data.related(), listing)
    for name, rows in data.related().items():
        if rows is None and name in earlier:
            payload[name] = earlier[name]
    _check_complete(proposed, focus_areas=payload["focus_areas"])
    return payload


def _payload(values: Listing, related: dict, listing: Listing) -> dict:
    """What a revision of ``listing`` stores: the scalar values of ``values`` and, for each
    related field, the rows given in ``related`` or else the listing's own."""
    payload = {key: _jsonable(getattr(values, key)) for key in SCALAR_FIELDS}
    for name in RELATED_FIELDS:
        rows = related.get(name)
        current = rows if rows is not None else getattr(listing, name).all()
        payload[name] = sorted(row.pk for row in current)
    return payload


def _revision_save(*, listing: Listing, by: User, payload: dict) -> ListingRevision:
    """The listing's pending revision, now proposing ``payload``."""
    with _history(by, "propose"):
        revision, created = ListingRevision.objects.update_or_create(
            listing=listing,
            status=ListingRevision.Status.PENDING,
            defaults={"data": payload, "submitted_by": by, "comment": ""},
        )
    if created:
        _carry_returned_documents(revision)
    return revision


def _open_revision(*, listing: Listing, by: User) -> ListingRevision:
    """The listing's pending revision, or a new one proposing the live values (to which a
    document is then added)."""
    with _history(by, "propose"):
        revision, created = ListingRevision.objects.get_or_create(
            listing=listing,
            status=ListingRevision.Status.PENDING,
            defaults={"data": _payload(listing, {}, listing), "submitted_by": by},
        )
    if created:
        _carry_returned_documents(revision)
    return revision


def _carry_returned_documents(revision: ListingRevision) -> None:
    """Documents proposed by a revision the Secretariat returned are proposed again by the
    publisher's next one."""
    ListingDocument.objects.filter(
        listing_id=revision.listing_id, revision__status=ListingRevision.Status.RETURNED
    ).update(revision=revision)


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _check_complete(listing: Listing, *, focus_areas) -> None:
    errors = {
        field: _("This field is required before the listing is submitted.")
        for field in REQUIRED_ON_SUBMIT
        if not getattr(listing, field)
    }
    if not focus_areas:
        errors["focus_areas"] = _("Choose at least one focus area.")
    if listing.review_by and listing.review_by <= timezone.localdate():
        errors["review_by"] = _("Choose a review date after today.")
    if (
        listing.kind == Listing.Kind.NEED
        and listing.publisher_type == Listing.PublisherType.PARTNER
    ):
        errors["kind"] = _("Partners publish offers, not needs.")
    if errors:
        raise ValidationError(errors)


class SimilarListingsFound(ValidationError):
    """Raised by submit when the institution already has listings very like this one."""

    def __init__(self, similar: list[Listing]):
        self.similar = similar
        super().__init__(
            _(
                "Your institution already has a listing very like this one. Check it, then "
                "confirm that you want to submit this one too."
            ),
            code="similar",
        )


@transaction.atomic
def listing_submit(*, listing: Listing, by: User, acknowledge_similar: bool = False) -> Listing:
    """Send a draft (or a returned or withdrawn listing) to the Secretariat for review."""
    _require(by, "exchange.submit_listing", listing)
    if listing.status not in (Status.DRAFT, Status.RETURNED, Status.WITHDRAWN):
        raise ValidationError(_("Only a draft, returned or withdrawn listing can be submitted."))
    _check_complete(listing, focus_areas=list(listing.focus_areas.all()))
    if not acknowledge_similar:
        similar = selectors.similar_listings(listing)
        if similar:
            raise SimilarListingsFound(similar)
    listing.status = Status.SUBMITTED
    listing.submitted_at = timezone.now()
    with _history(by, "submit"):
        listing.save(update_fields=["status", "submitted_at", "updated"])
    return listing


def _notify_publisher(listing: Listing, kind: str, comment: str = "") -> None:
    notifications_notify_institution(
        institution=listing.institution,
        kind=kind,
        params={"title": listing.title, "comment": comment},
        url=listing.get_absolute_url(),
    )


def _moderate(listing: Listing, by: User, *, to: str, action: str, **fields):
    _require(by, "exchange.moderate_listing", listing)
    # Lock the row, then read its current status into the caller's instance.
    Listing.objects.select_for_update(of=("self",)).filter(pk=listing.pk).values("pk").get()
    listing.refresh_from_db(fields=["status"])
    if listing.status not in MODERATED_FROM[action]:
        raise ValidationError(
            _("This listing is %(status)s; it cannot be changed this way.")
            % {"status": listing.get_status_display().lower()}
        )
    listing.status = to
    for key, value in fields.items():
        setattr(listing, key, value)
    with _history(by, action):
        listing.save(update_fields=["status", "updated", *fields])
    return listing


@transaction.atomic
def listing_approve(*, listing: Listing, by: User) -> Listing:
    """Publish a submitted listing; the publisher is notified."""
    today = timezone.localdate()
    listing = _moderate(
        listing,
        by,
        to=Status.PUBLISHED,
        action="approve",
        published_at=listing.published_at or timezone.now(),
        review_by=_review_date(listing.review_by, today=today),
        moderation_comment="",
    )
    _notify_publisher(listing, Kind.LISTING_APPROVED)
    return listing


def _review_date(*candidates: datetime.date | None, today: datetime.date) -> datetime.date:
    """The review-by date a listing is published with: the first of ``candidates`` still
    ahead of ``today``, else a year from today."""
    return next((date for date in candidates if date and date > today), today + REVIEW_PERIOD)


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Write a comment for the publisher.")})
    return comment


@transaction.atomic
def listing_return(*, listing: Listing, by: User, comment: str) -> Listing:
    """Send a submitted listing back to its publisher with comments to address."""
    listing = _moderate(
        listing,
        by,
        to=Status.RETURNED,
        action="return",
        moderation_comment=_comment(comment),
    )
    _notify_publisher(listing, Kind.LISTING_RETURNED, listing.moderation_comment)
    return listing


@transaction.atomic
def listing_reject(*, listing: Listing, by: User, comment: str) -> Listing:
    """Refuse a submitted listing, saying why."""
    listing = _moderate(
        listing,
        by,
        to=Status.REJECTED,
        action="reject",
        moderation_comment=_comment(comment),
    )
    _notify_publisher(listing, Kind.LISTING_REJECTED, listing.moderation_comment)
    return listing


@transaction.atomic
def listing_archive(*, listing: Listing, by: User) -> Listing:
    """Take a listing out of circulation for good (kept, never deleted)."""
    listing = _moderate(
        listing,
        by,
        to=Status.ARCHIVED,
        action="archive",
    )
    with _history(by, "archive"):
        _close_revisions(listing)
    _notify_publisher(listing, Kind.LISTING_ARCHIVED)
    return listing


def _close_revisions(listing: Listing) -> None:
    """Changes proposed to a listing that leaves the catalogue are closed, no longer waiting
    for a decision: the files proposed with them are simply its files again."""
    listing.documents.filter(
        revision__status__in=(ListingRevision.Status.PENDING, ListingRevision.Status.RETURNED)
    ).update(revision=None)
    listing.revisions.filter(status=ListingRevision.Status.PENDING).update(
        status=ListingRevision.Status.WITHDRAWN, decided_at=timezone.now()
    )


@transaction.atomic
def listing_withdraw(*, listing: Listing, by: User) -> Listing:
    """The publisher takes back a submitted listing (to draft) or a published one."""
    _require(by, "exchange.withdraw_listing", listing)
    targets = {Status.SUBMITTED: Status.DRAFT, Status.PUBLISHED: Status.WITHDRAWN}
    if listing.status not in targets:
        raise ValidationError(_("Only a submitted or published listing can be withdrawn."))
    listing.status = targets[listing.status]
    with _history(by, "withdraw"):
        listing.save(update_fields=["status", "updated"])
        # The listing goes back through moderation whole.
        _close_revisions(listing)
    return listing


@transaction.atomic
def listing_renew(*, listing: Listing, by: User) -> Listing:
    """Confirm a listing is still valid: it stays (or is back) in the catalogue for a year."""
    _require(by, "exchange.renew_listing", listing)
    if listing.status not in (Status.PUBLISHED, Status.EXPIRED):
        raise ValidationError(_("Only a published or expired listing can be renewed."))
    listing.status = Status.PUBLISHED
    listing.review_by = timezone.localdate() + REVIEW_PERIOD
    with _history(by, "renew"):
        listing.save(update_fields=["status", "review_by", "updated"])
    return listing


@transaction.atomic
def listings_expire(*, today: datetime.date | None = None) -> int:
    """Hide published listings whose review-by date passed (daily, by Celery beat)."""
    today = today or timezone.localdate()
    expired = list(
        Listing.objects.select_for_update(of=("self",))
        .select_related("institution")
        .filter(status=Status.PUBLISHED, review_by__lt=today)
    )
    with pghistory.context(action="expire"):
        for listing in expired:
            listing.status = Status.EXPIRED
            listing.save(update_fields=["status", "updated"])
            _notify_publisher(listing, Kind.LISTING_EXPIRED)
    return len(expired)


@transaction.atomic
def listings_remind_review(*, today: datetime.date | None = None) -> int:
    """Tell the publishers of published listings whose review-by date comes within
    REVIEW_REMINDER that they will expire unless renewed (daily, by Celery beat). Once per
    listing and date, however often it runs: a renewal sets a new date, reminded in turn."""
    today = today or timezone.localdate()
    due = list(
        Listing.objects.select_related("institution").filter(
            status=Status.PUBLISHED, review_by__gte=today, review_by__lt=today + REVIEW_REMINDER
        )
    )
    urls = {listing.pk: listing.get_absolute_url() for listing in due}
    reminded = set(
        Notification.objects.filter(
            kind=Kind.LISTING_REVIEW_DUE, url__in=urls.values()
        ).values_list("url", "params__review_by")
    )
    count = 0
    for listing in due:
        review_by = listing.review_by.isoformat()
        if (urls[listing.pk], review_by) in reminded:
            continue
        notifications_notify_institution(
            institution=listing.institution,
            kind=Kind.LISTING_REVIEW_DUE,
            params={"title": listing.title, "review_by": review_by},
            url=urls[listing.pk],
        )
        count += 1
    return count


# --- Revisions of published listings ---------------------------------------------------------


REVISION_DECISIONS = {
    ListingRevision.Status.APPROVED: "approve revision",
    ListingRevision.Status.RETURNED: "return revision",
    ListingRevision.Status.REJECTED: "reject revision",
}


def _decide_revision(revision: ListingRevision, by: User, status: str, comment: str = ""):
    _require(by, "exchange.moderate_listing", revision.listing)
    ListingRevision.objects.select_for_update(of=("self",)).filter(pk=revision.pk).values(
        "pk"
    ).get()
    revision.refresh_from_db(fields=["status"])
    if not revision_decisions(revision):
        raise ValidationError(_("This revision was already decided."))
    revision.status = status
    revision.comment = comment
    revision.decided_at = timezone.now()
    with _history(by, REVISION_DECISIONS[status]):
        revision.save(update_fields=["status", "comment", "decided_at"])
    return revision


def revision_values(revision: ListingRevision) -> dict:
    """The listing's values once ``revision`` is approved (what its comparison shows): as
    proposed, but for the review-by date. Left empty, a revision keeps the live date; a date
    that passed while the revision waited is moved a year ahead, as on a first approval."""
    values = {key: revision.data.get(key) for key in SCALAR_FIELDS}
    proposed = values["review_by"] and datetime.date.fromisoformat(values["review_by"])
    values["review_by"] = _review_date(
        proposed, revision.listing.review_by, today=timezone.localdate()
    )
    return values


@transaction.atomic
def revision_approve(*, revision: ListingRevision, by: User) -> Listing:
    """Make a proposed revision the live text of the listing."""
    revision = _decide_revision(revision, by, ListingRevision.Status.APPROVED)
    listing = revision.listing
    values = revision_values(revision)
    related = {
        name: list(model.objects.filter(pk__in=revision.data.get(name, [])))
        for name, model in RELATED_FIELDS.items()
    }
    with _history(by, "approve revision"):
        _apply(listing, ListingData(values=values, **related))
        revision.documents.update(revision=None)
    _notify_publisher(listing, Kind.REVISION_APPROVED)
    return listing


@transaction.atomic
def revision_return(*, revision: ListingRevision, by: User, comment: str) -> ListingRevision:
    revision = _decide_revision(revision, by, ListingRevision.Status.RETURNED, _comment(comment))
    _notify_publisher(revision.listing, Kind.REVISION_RETURNED, revision.comment)
    return revision


@transaction.atomic
def revision_reject(*, revision: ListingRevision, by: User, comment: str) -> ListingRevision:
    revision = _decide_revision(revision, by, ListingRevision.Status.REJECTED, _comment(comment))
    with _history(by, "reject revision"):
        _delete_documents(revision.documents.all())
    _notify_publisher(revision.listing, Kind.REVISION_REJECTED, revision.comment)
    return revision


# --- Documents -------------------------------------------------------------------------------


MAX_DOCUMENTS = 10


@transaction.atomic
def document_add(*, listing: Listing, by: User, upload) -> ListingDocument:
    """Attach a file after checking what it really is; see exchange.documents."""
    _require(by, "exchange.manage_documents", listing)
    if listing.documents.count() >= MAX_DOCUMENTS:
        raise ValidationError(
            _("A listing can have at most %(count)d documents.") % {"count": MAX_DOCUMENTS}
        )
    checked = check_upload(upload)
    document = ListingDocument(
        listing=listing,
        # On a public listing, a new file waits for the Secretariat like a change of text.
        revision=_open_revision(listing=listing, by=by)
        if listing.status in REVISED_STATUSES
        else None,
        token=checked.token,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        uploaded_by=by,
    )
    document.file.save(checked.name, upload, save=False)
    with _history(by, "add document"):
        document.save()
    return document


@transaction.atomic
def document_remove(*, document: ListingDocument, by: User) -> None:
    _require(by, "exchange.manage_documents", document.listing)
    with _history(by, "remove document"):
        _delete_documents([document])


def _delete_documents(documents: Iterable[ListingDocument]) -> None:
    """Delete the rows, and their files once that is committed."""
    for document in documents:
        storage, path = document.file.storage, document.file.name
        document.delete()
        transaction.on_commit(functools.partial(storage.delete, path))


# --- Interest and connections ----------------------------------------------------------------


@transaction.atomic
def interest_express(*, listing: Listing, by: User, message: str) -> Connection:
    """The acting institution shows interest in a listing; the publisher is notified."""
    _require(by, "exchange.express_interest", listing)
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Say briefly what your institution is interested in.")})
    if Connection.objects.filter(listing=listing, institution=by.institution_id).exists():
        raise ValidationError(_("Your institution has already expressed interest in this listing."))
    connection = Connection(
        listing=listing, institution=by.institution, created_by=by, message=message
    )
    connection.full_clean()
    with _history(by, "express interest"):
        connection.save()
    notifications_notify_institution(
        institution=listing.institution,
        kind=Kind.INTEREST_EXPRESSED,
        params={"title": listing.title, "institution": by.institution.name},
        url=listing.get_absolute_url(),
    )
    return connection


def connection_move_check(*, connection: Connection, by: User, status: str) -> None:
    """Raise what ``connection_move`` would refuse (PermissionDenied, ValidationError), without
    changing anything: the page that asks to confirm a final step asks only for a step the
    service will take."""
    _require(by, "exchange.update_connection", connection)
    allowed = Connection.TRANSITIONS.get(connection.status, ())
    if status not in allowed:
        raise ValidationError(
            {
                "status": _("This connection cannot move from %(old)s to %(new)s.")
                % {"old": connection.get_status_display(), "new": Connection.Status(status).label}
            }
        )


@transaction.atomic
def connection_move(*, connection: Connection, by: User, status: str) -> Connection:
    """Move a connection one step along interested → in talks → agreed → in execution → completed
    (or close it); the other side is notified."""
    connection_move_check(connection=connection, by=by, status=status)
    connection.status = status
    with _history(by, f"connection {status}"):
        connection.save(update_fields=["status", "updated"])
    other = (
        connection.listing.institution
        if by.institution_id == connection.institution_id
        else connection.institution
    )
    notifications_notify_institution(
        institution=other,
        kind=Kind.CONNECTION_UPDATED,
        params={"title": connection.listing.title, "status": status},
        url=connection.listing.get_absolute_url(),
    )
    return connection


# --- Upsert by external reference (national catalogue sync: API and file imports) ------------


@dataclass(frozen=True)
class RefRow:
    """One listing of a national catalogue, identified by its reference in that catalogue."""

    kind: str
    external_ref: str
    data: ListingData


class RowErrors(ValidationError):
    """Errors of an upsert batch, by row position (0-based); nothing was written."""

    def __init__(self, errors: dict[int, ValidationError]):
        self.row_errors = errors
        super().__init__(
            ngettext(
                "%(count)d row has errors; nothing was saved.",
                "%(count)d rows have errors; nothing was saved.",
                len(errors),
            )
            % {"count": len(errors)},
            code="rows",
        )


UPSERT_CHUNK = 500
UPSERT_OUTCOMES = ("created", "updated", "revision", "unchanged")


def upsert_institution(by: User, institution: Institution | None) -> Institution:
    """The institution an import or sync writes to (by default the acting person's), once
    ``by`` may import for it (``exchange.import_listings``)."""
    if institution is None:
        institution = _publishing_institution(by)
    if institution is None:
        raise ValidationError({"institution": _("Choose the institution to import for.")})
    _require(by, "exchange.import_listings", institution)
    return institution


def _unchanged(candidate: Listing, listing: Listing, data: ListingData) -> bool:
    """Whether the validated ``candidate`` holds exactly what ``listing`` holds already."""
    arrays = {
        "focus_areas": "focus_area_ids",
        "sdgs": "sdg_numbers",
        "beneficiary_countries": "beneficiary_ids",
    }
    fields = [
        *data.values,
        *(arrays[name] for name, rows in data.related().items() if rows is not None),
    ]
    return all(getattr(candidate, name) == getattr(listing, name) for name in fields)


def _plan(by: User, institution: Institution, row: RefRow, existing: dict, pending: dict):
    """(outcome, listing to write or keep, revision payload) for one row; raises its errors."""
    ref = (row.external_ref or "").strip()
    if not ref:
        raise ValidationError({"external_ref": _("The external reference is required.")})
    if row.kind not in Listing.Kind.values:
        raise ValidationError({"kind": _("Choose offer or need.")})
    if row.kind == Listing.Kind.NEED and not by.has_perm("exchange.import_needs", institution):
        raise ValidationError({"kind": _("Partners publish offers, not needs.")})
    data = ListingData(
        values={**row.data.values, "external_ref": ref},
        focus_areas=row.data.focus_areas,
        sdgs=row.data.sdgs,
        beneficiary_countries=row.data.beneficiary_countries,
    )
    listing = existing.get(ref)
    if listing is None:
        listing = _new_listing(by=by, kind=row.kind, institution=institution)
        _validate(listing, data, matched=True)
        return "created", listing, data
    if listing.kind != row.kind:
        raise ValidationError(
            {
                "kind": _("The listing with this reference is %(kind)s.")
                % {"kind": listing.get_kind_display().lower()}
            }
        )
    candidate = copy.copy(listing)
    _validate(candidate, data, matched=True)
    if _unchanged(candidate, listing, data):
        return "unchanged", listing, data
    if listing.status in (Status.PUBLISHED, Status.EXPIRED):
        payload = _revision_payload(listing, data)
        revision = pending.get(listing.pk)
        if revision is not None and revision.data == payload:
            return "unchanged", listing, data
        return "revision", listing, payload
    if not is_editable(by, listing):
        raise ValidationError(
            {
                "external_ref": _("This listing is %(status)s; an import cannot change it now.")
                % {"status": listing.get_status_display().lower()}
            }
        )
    return "updated", candidate, data


def _create_all(by: User, planned: list, progress) -> None:
    """Insert new listings and their related rows in bulk (history kept by the triggers)."""
    new = [(listing, data) for outcome, listing, data in planned if outcome == "created"]
    for start in range(0, len(new), UPSERT_CHUNK):
        chunk = new[start : start + UPSERT_CHUNK]
        with _history(by, "import"):
            _insert_listings([listing for listing, _data in chunk])
        for name in RELATED_FIELDS:
            field = Listing._meta.get_field(name)
            pairs = [
                (listing.pk, row.pk) for listing, data in chunk for row in getattr(data, name) or ()
            ]
            if pairs:
                _insert_pairs(field, pairs)
        if progress:
            progress(len(chunk))


def _insert_listings(listings: list[Listing]) -> None:
    """Insert new, validated listings of one institution in one statement; set their ids.

    The rows travel as one JSON document that PostgreSQL turns into rows of the table's own
    type (``json_populate_recordset``, which also reads arrays and refuses text too long for
    its column). Django's bulk_create builds and quotes a parameter per value, which for a
    10,000-row import costs more than the rows' own triggers and indexes. The row triggers
    (search fields, history, with the pghistory context) run as for any insert.
    """
    now = timezone.now()
    fields = [
        field
        for field in Listing._meta.concrete_fields
        if not field.primary_key and field.name != "search_vector"
    ]
    for listing in listings:
        listing.created = listing.updated = now
    rows = json.dumps(
        [
            {field.column: getattr(listing, field.attname) for field in fields}
            for listing in listings
        ],
        default=_isoformat,
    )
    columns = ", ".join(database.ops.quote_name(field.column) for field in fields)
    table = Listing._meta.db_table
    with database.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 - names from the model
            f"FROM json_populate_recordset(NULL::{table}, %s::json) RETURNING id, external_ref",
            [rows],
        )
        ids = {ref: pk for pk, ref in cursor.fetchall()}
    for listing in listings:
        listing.pk = ids[listing.external_ref]
        listing._state.adding = False


def _isoformat(value) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _insert_pairs(field, pairs: list[tuple[int, int]]) -> None:
    """Rows of a many-to-many table, in one statement (two arrays as text literals)."""
    through = field.remote_field.through._meta
    source = through.get_field(field.m2m_field_name()).column
    target = through.get_field(field.m2m_reverse_field_name()).column
    with database.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {through.db_table} ({source}, {target}) "  # noqa: S608 - model names
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            [
                "{" + ",".join(str(left) for left, _right in pairs) + "}",
                "{" + ",".join(str(right) for _left, right in pairs) + "}",
            ],
        )


@transaction.atomic
def listings_upsert_by_ref(
    *,
    by: User,
    rows: list[RefRow],
    institution: Institution | None = None,
    dry_run: bool = False,
    progress=None,
) -> list[tuple[Listing | ListingRevision, str]]:
    """Create or update listings of an institution matched by their external reference.

    All or nothing: every row is validated first (one query finds the existing references);
    if any row is invalid, ``RowErrors`` says which and nothing is written. A new listing is
    saved as a draft; a draft (returned, withdrawn) is updated; a published (or expired) one
    gets a pending revision, its live text staying; a row equal to what is stored changes
    nothing ("unchanged": no save, no history, no revision). ``dry_run`` validates and tells
    the outcomes without writing. ``progress(n)`` is called as rows are written.

    The institution defaults to the acting person's; permission ``exchange.import_listings``
    (and ``exchange.import_needs`` for needs) on it is required.
    """
    institution = upsert_institution(by, institution)
    refs = {(row.external_ref or "").strip() for row in rows} - {""}
    existing = {
        listing.external_ref: listing
        for listing in Listing.objects.select_for_update(of=("self",)).filter(
            institution=institution, external_ref__in=refs
        )
    }
    pending = {
        revision.listing_id: revision
        for revision in ListingRevision.objects.filter(
            listing__in=[listing.pk for listing in existing.values()],
            status=ListingRevision.Status.PENDING,
        )
    }
    planned, errors, seen = [], {}, set()
    for position, row in enumerate(rows):
        ref = (row.external_ref or "").strip()
        try:
            if ref and ref in seen:
                raise ValidationError(
                    {"external_ref": _("This external reference appears twice in the file.")}
                )
            seen.add(ref)
            planned.append(_plan(by, institution, row, existing, pending))
        except ValidationError as error:
            errors[position] = error
    if errors:
        raise RowErrors(errors)
    results = [(listing, outcome) for outcome, listing, _extra in planned]
    if dry_run:
        return results
    _create_all(by, planned, progress)
    for index, (outcome, listing, extra) in enumerate(planned):
        if outcome == "updated":
            with _history(by, "import"):
                listing.save()
                for name, related in extra.related().items():
                    if related is not None:
                        getattr(listing, name).set(related)
        elif outcome == "revision":
            results[index] = (_revision_save(listing=listing, by=by, payload=extra), outcome)
        if progress and outcome != "created":
            progress(1)
    return results


def listing_upsert_by_ref(
    *,
    by: User,
    kind: str,
    external_ref: str,
    data: ListingData,
    institution: Institution | None = None,
) -> tuple[Listing | ListingRevision, str]:
    """Create or update the listing of ``institution`` (by default the acting person's) whose
    external reference is ``external_ref``; idempotent.

    Returns the listing (or the pending revision of a published one) and the outcome:
    "created" (a new draft), "updated", "revision" or "unchanged". Raises PermissionDenied
    without ``exchange.import_listings`` on the institution (``exchange.import_needs`` for a
    need), ValidationError for invalid values (by field).
    """
    if kind == Listing.Kind.NEED:
        _require(by, "exchange.import_needs", upsert_institution(by, institution))
    try:
        [result] = listings_upsert_by_ref(
            by=by,
            rows=[RefRow(kind=kind, external_ref=external_ref, data=data)],
            institution=institution,
        )
    except RowErrors as errors:
        raise errors.row_errors[0] from None
    return result
