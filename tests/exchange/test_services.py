"""The listing lifecycle through the services, with history and notifications."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, User
from exchange import services
from exchange.models import Connection, Listing, ListingEvent, ListingRevision
from tests import factories

pytestmark = pytest.mark.django_db
Status = Listing.Status


@pytest.fixture
def draft(focal_point, draft_data):
    return services.listing_create(by=focal_point, kind="offer", data=draft_data())


def test_create_belongs_to_the_institution_and_is_attributed(draft, focal_point, peru):
    assert (draft.status, draft.institution, draft.country, draft.created_by) == (
        Status.DRAFT,
        peru,
        peru.country,
        focal_point,
    )
    assert draft.publisher_type == "member_state"
    draft.refresh_from_db()
    assert draft.focus_area_ids == [factories.focus_area("sustainable-development-environment").pk]
    assert draft.sdg_numbers == [11, 13]
    event = ListingEvent.objects.get(pgh_obj_id=draft.pk)
    assert event.pgh_context.metadata == {"user": focal_point.pk, "action": "create"}


def test_a_draft_needs_little(focal_point, draft_data):
    data = draft_data(modality="", cooperation_type="", stage="", contact_email="")
    listing = services.listing_create(by=focal_point, kind="need", data=data)
    assert listing.status == Status.DRAFT
    with pytest.raises(ValidationError) as error:
        services.listing_submit(listing=listing, by=focal_point)
    assert set(error.value.message_dict) == {
        "modality",
        "cooperation_type",
        "stage",
        "contact_email",
    }
    listing.refresh_from_db()
    assert listing.status == Status.DRAFT


def test_a_draft_needs_a_focus_area(focal_point, draft_data):
    with pytest.raises(ValidationError) as error:
        services.listing_create(by=focal_point, kind="offer", data=draft_data(focus_areas=[]))
    assert error.value.message_dict == {"focus_areas": ["Choose at least one focus area."]}
    assert Listing.objects.count() == 0


def test_full_lifecycle(draft, focal_point, secretariat, django_capture_on_commit_callbacks):
    services.listing_submit(listing=draft, by=focal_point)
    assert draft.status == Status.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_return(listing=draft, by=secretariat, comment="Añadan la duración.")
    draft.refresh_from_db()
    assert (draft.status, draft.moderation_comment) == (Status.RETURNED, "Añadan la duración.")
    note = Notification.objects.get(recipient=focal_point)
    assert (note.kind, note.params["comment"]) == ("listing_returned", "Añadan la duración.")

    services.listing_submit(listing=draft, by=focal_point)
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_approve(listing=draft, by=secretariat)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft.published_at is not None
    assert draft.review_by == timezone.localdate() + datetime.timedelta(days=365)
    assert draft.moderation_comment == ""
    assert Notification.objects.filter(recipient=focal_point, kind="listing_approved").count() == 1
    actions = [
        e.pgh_context.metadata["action"]
        for e in ListingEvent.objects.filter(pgh_obj_id=draft.pk).order_by("pgh_id")
    ]
    assert actions == ["create", "submit", "return", "submit", "approve"]


def test_comment_is_required_to_return_or_reject(draft, focal_point, secretariat):
    services.listing_submit(listing=draft, by=focal_point)
    for service in (services.listing_return, services.listing_reject):
        with pytest.raises(ValidationError) as error:
            service(listing=draft, by=secretariat, comment="   ")
        assert error.value.message_dict == {"comment": ["Write a comment for the publisher."]}
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_transitions_out_of_order_are_refused(draft, focal_point, secretariat):
    with pytest.raises(ValidationError, match="cannot be changed this way"):
        services.listing_approve(listing=draft, by=secretariat)
    with pytest.raises(ValidationError, match="Only a submitted or published"):
        services.listing_withdraw(listing=draft, by=focal_point)
    with pytest.raises(ValidationError, match="Only a published or expired"):
        services.listing_renew(listing=draft, by=focal_point)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_editing_a_published_listing_creates_a_revision(
    draft, focal_point, secretariat, draft_data
):
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    revision = services.listing_update(
        listing=draft, by=focal_point, data=draft_data(title="Alerta temprana: segunda fase")
    )
    assert isinstance(revision, ListingRevision)
    draft.refresh_from_db()
    assert draft.title == "Sistema de alerta temprana ante inundaciones en cuencas andinas"
    # A second edit replaces the pending revision rather than stacking another.
    services.listing_update(listing=draft, by=focal_point, data=draft_data(title="Segunda fase"))
    assert ListingRevision.objects.filter(listing=draft, status="pending").count() == 1

    services.revision_approve(
        revision=ListingRevision.objects.get(status="pending"), by=secretariat
    )
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("Segunda fase", Status.PUBLISHED)


def test_archiving_closes_the_changes_waiting(draft, focal_point, secretariat, draft_data):
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    revision = services.listing_update(
        listing=draft, by=focal_point, data=draft_data(title="Segunda fase")
    )
    document = factories.DocumentFactory(listing=draft, revision=revision, uploaded_by=focal_point)
    services.listing_archive(listing=draft, by=secretariat)
    revision.refresh_from_db()
    document.refresh_from_db()
    assert (revision.status, document.revision) == ("withdrawn", None)
    assert revision.decided_at is not None
    with pytest.raises(ValidationError, match="already decided"):
        services.revision_approve(revision=revision, by=secretariat)
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (
        Status.ARCHIVED,
        "Sistema de alerta temprana ante inundaciones en cuencas andinas",
    )


def test_returned_revision_leaves_the_live_text(draft, focal_point, secretariat, draft_data):
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    revision = services.listing_update(
        listing=draft, by=focal_point, data=draft_data(title="Nuevo")
    )
    services.revision_return(revision=revision, by=secretariat, comment="Precisen el título.")
    draft.refresh_from_db()
    revision.refresh_from_db()
    assert (draft.title, revision.status, revision.comment) == (
        "Sistema de alerta temprana ante inundaciones en cuencas andinas",
        "returned",
        "Precisen el título.",
    )
    with pytest.raises(ValidationError, match="already decided"):
        services.revision_approve(revision=revision, by=secretariat)


def test_withdraw_and_resubmit(draft, focal_point, secretariat):
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_withdraw(listing=draft, by=focal_point)
    assert draft.status == Status.DRAFT
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    services.listing_withdraw(listing=draft, by=focal_point)
    assert draft.status == Status.WITHDRAWN
    services.listing_submit(listing=draft, by=focal_point)
    assert draft.status == Status.SUBMITTED


def test_beat_names_registered_tasks_and_the_expiry_runs_as_one(peru, settings):
    from cooperanet.celery import app

    app.loader.import_default_modules()  # what a worker does on start: the apps' tasks
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry
    old = factories.ListingFactory(
        institution=peru, review_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    result = app.tasks["exchange.expire_listings"].apply()
    assert result.get() == 1
    old.refresh_from_db()
    assert old.status == Status.EXPIRED
    assert app.tasks["exchange.expire_listings"].apply().get() == 0


def test_publishers_are_reminded_once_before_the_review_date(focal_point, peru, client):
    today = timezone.localdate()
    due = factories.ListingFactory(
        institution=peru, title="Pronto", review_by=today + datetime.timedelta(days=10)
    )
    factories.ListingFactory(institution=peru, review_by=today + datetime.timedelta(days=90))
    factories.ListingFactory(
        institution=peru, status="draft", review_by=today + datetime.timedelta(days=10)
    )
    assert services.listings_remind_review() == 1
    assert services.listings_remind_review() == 0  # a second run the same day, or the next
    assert services.listings_remind_review(today=today + datetime.timedelta(days=1)) == 0
    [note] = Notification.objects.filter(recipient=focal_point, kind="listing_review_due")
    assert (note.url, note.params["review_by"]) == (
        due.get_absolute_url(),
        due.review_by.isoformat(),
    )
    client.force_login(focal_point)
    client.cookies["django_language"] = "es"
    inbox = client.get(reverse("accounts:inbox")).content.decode()
    assert "“Pronto” debe revisarse el" in inbox
    # Renewed, the listing has a new date, reminded in its turn.
    services.listing_renew(listing=due, by=focal_point)
    assert services.listings_remind_review(today=due.review_by - datetime.timedelta(days=5)) == 1


def test_expiry_and_renewal(focal_point, peru, django_capture_on_commit_callbacks):
    old = factories.ListingFactory(
        institution=peru, review_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    current = factories.ListingFactory(institution=peru)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.listings_expire() == 1
    old.refresh_from_db()
    current.refresh_from_db()
    assert (old.status, current.status) == (Status.EXPIRED, Status.PUBLISHED)
    assert Notification.objects.filter(recipient=focal_point, kind="listing_expired").count() == 1
    assert services.listings_expire() == 0
    services.listing_renew(listing=old, by=focal_point)
    old.refresh_from_db()
    assert old.status == Status.PUBLISHED
    assert old.review_by == timezone.localdate() + datetime.timedelta(days=365)


def test_similar_listing_warning(focal_point, draft_data):
    first = services.listing_create(by=focal_point, kind="offer", data=draft_data())
    services.listing_submit(listing=first, by=focal_point)
    second = services.listing_create(
        by=focal_point,
        kind="offer",
        data=draft_data(title="Sistema de alerta temprana ante inundaciones en cuencas andinas II"),
    )
    with pytest.raises(services.SimilarListingsFound) as found:
        services.listing_submit(listing=second, by=focal_point)
    assert found.value.similar == [first]
    second.refresh_from_db()
    assert second.status == Status.DRAFT
    services.listing_submit(listing=second, by=focal_point, acknowledge_similar=True)
    assert second.status == Status.SUBMITTED


def test_partner_publishes_offers_not_needs(partner, draft_data):
    offer = services.listing_create(by=partner, kind="offer", data=draft_data())
    assert offer.publisher_type == "partner"
    with pytest.raises(PermissionDenied):
        services.listing_create(by=partner, kind="need", data=draft_data())
    assert Listing.objects.count() == 1


def test_mission_liaison_drafts_for_the_authority(mission_liaison, peru, draft_data):
    listing = services.listing_create(by=mission_liaison, kind="need", data=draft_data())
    assert (listing.institution, listing.created_by) == (peru, mission_liaison)
    with pytest.raises(PermissionDenied):
        services.listing_submit(listing=listing, by=mission_liaison)


class TestInterest:
    def test_express_interest_notifies_the_publisher(
        self, other_focal_point, focal_point, django_capture_on_commit_callbacks
    ):
        listing = factories.ListingFactory(institution=focal_point.institution)
        with django_capture_on_commit_callbacks(execute=True):
            connection = services.interest_express(
                listing=listing, by=other_focal_point, message="Nos interesa para Jujuy."
            )
        assert (connection.status, connection.institution) == (
            "interested",
            other_focal_point.institution,
        )
        note = Notification.objects.get(recipient=focal_point)
        assert note.params == {
            "title": listing.title,
            "institution": other_focal_point.institution.name,
        }

    def test_connection_moves_forward_only(self, other_focal_point, focal_point):
        listing = factories.ListingFactory(institution=focal_point.institution)
        connection = services.interest_express(listing=listing, by=other_focal_point, message="Sí")
        for status in ("in_talks", "agreed", "in_execution", "completed"):
            services.connection_move(connection=connection, by=focal_point, status=status)
        assert connection.status == "completed"
        with pytest.raises(ValidationError):
            services.connection_move(connection=connection, by=focal_point, status="closed")

    def test_skipping_a_step_is_refused(self, other_focal_point, focal_point):
        listing = factories.ListingFactory(institution=focal_point.institution)
        connection = services.interest_express(listing=listing, by=other_focal_point, message="Sí")
        with pytest.raises(ValidationError):
            services.connection_move(
                connection=connection, by=other_focal_point, status="completed"
            )
        connection.refresh_from_db()
        assert connection.status == "interested"

    def test_no_interest_in_own_or_unpublished_listings(self, focal_point, other_focal_point):
        own = factories.ListingFactory(institution=focal_point.institution)
        draft = factories.ListingFactory(institution=other_focal_point.institution, status="draft")
        with pytest.raises(PermissionDenied):
            services.interest_express(listing=own, by=focal_point, message="x")
        with pytest.raises(PermissionDenied):
            services.interest_express(listing=draft, by=focal_point, message="x")
        assert Connection.objects.count() == 0

    def test_interest_once_per_institution(self, other_focal_point, focal_point):
        listing = factories.ListingFactory(institution=focal_point.institution)
        services.interest_express(listing=listing, by=other_focal_point, message="Sí")
        with pytest.raises(ValidationError, match="already expressed"):
            services.interest_express(listing=listing, by=other_focal_point, message="Otra vez")

    def test_outsiders_cannot_move_a_connection(self, other_focal_point, focal_point, partner):
        listing = factories.ListingFactory(institution=focal_point.institution)
        connection = services.interest_express(listing=listing, by=other_focal_point, message="Sí")
        with pytest.raises(PermissionDenied):
            services.connection_move(connection=connection, by=partner, status="in_talks")


def test_board_member_changes_nothing(board_member, draft, draft_data):
    for call in (
        lambda: services.listing_create(by=board_member, kind="offer", data=draft_data()),
        lambda: services.listing_update(listing=draft, by=board_member, data=draft_data()),
        lambda: services.listing_submit(listing=draft, by=board_member),
        lambda: services.listing_approve(listing=draft, by=board_member),
    ):
        with pytest.raises(PermissionDenied):
            call()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert User.objects.filter(role="board_member").count() == 1


def test_a_revision_can_clear_an_optional_field(draft, focal_point, secretariat, draft_data):
    services.listing_update(listing=draft, by=focal_point, data=draft_data(duration_months=12))
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    revision = services.listing_update(
        listing=draft, by=focal_point, data=draft_data(duration_months=None, cost_sharing="")
    )
    assert revision.data["duration_months"] is None
    services.revision_approve(revision=revision, by=secretariat)
    draft.refresh_from_db()
    assert draft.duration_months is None


def _published(draft, focal_point, secretariat):
    services.listing_submit(listing=draft, by=focal_point)
    services.listing_approve(listing=draft, by=secretariat)
    draft.refresh_from_db()
    return draft


def test_a_revision_left_without_a_review_date_keeps_the_live_one(
    draft, focal_point, secretariat, draft_data
):
    listing = _published(draft, focal_point, secretariat)
    live = listing.review_by
    revision = services.listing_update(
        listing=listing, by=focal_point, data=draft_data(title="Segunda fase", review_by=None)
    )
    services.revision_approve(revision=revision, by=secretariat)
    listing.refresh_from_db()
    assert (listing.title, listing.review_by) == ("Segunda fase", live)
    # So the expiry still finds it when that date passes.
    assert services.listings_expire(today=live + datetime.timedelta(days=1)) == 1


def test_a_review_date_in_the_past_is_refused_and_changes_nothing(
    draft, focal_point, secretariat, draft_data
):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    listing = _published(draft, focal_point, secretariat)
    with pytest.raises(ValidationError) as error:
        services.listing_update(
            listing=listing, by=focal_point, data=draft_data(review_by=yesterday)
        )
    assert error.value.message_dict == {"review_by": ["Choose a review date after today."]}
    assert not ListingRevision.objects.filter(listing=listing).exists()

    other = services.listing_create(
        by=focal_point, kind="need", data=draft_data(title="Otra", review_by=yesterday)
    )
    with pytest.raises(ValidationError) as error:
        services.listing_submit(listing=other, by=focal_point)
    assert error.value.message_dict == {"review_by": ["Choose a review date after today."]}
    other.refresh_from_db()
    assert other.status == Status.DRAFT


def test_a_review_date_that_passed_while_the_revision_waited_moves_a_year_ahead(
    draft, focal_point, secretariat, draft_data
):
    listing = _published(draft, focal_point, secretariat)
    soon = timezone.localdate() + datetime.timedelta(days=3)
    revision = services.listing_update(
        listing=listing, by=focal_point, data=draft_data(review_by=soon)
    )
    Listing.objects.filter(pk=listing.pk).update(review_by=timezone.localdate())
    revision.data["review_by"] = timezone.localdate().isoformat()  # as if days went by
    revision.save(update_fields=["data"])
    services.revision_approve(revision=revision, by=secretariat)
    listing.refresh_from_db()
    assert listing.review_by == timezone.localdate() + datetime.timedelta(days=365)
