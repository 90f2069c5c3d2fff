"""Moderation in the admin: queue, filters, return/reject with comments, revision diff."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from exchange import services
from exchange.models import Listing, ListingRevision
from tests import factories

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:exchange_listing_changelist")


@pytest.fixture
def submitted(peru):
    return factories.ListingFactory.create_batch(
        3, institution=peru, status="submitted", submitted_at=timezone.now()
    )


def test_queue_filters(client, secretariat, submitted, argentina):
    old = factories.ListingFactory(
        institution=argentina,
        status="submitted",
        kind="need",
        submitted_at=timezone.now() - datetime.timedelta(days=45),
    )
    # Submitted as long ago, but decided since: no longer waiting.
    factories.ListingFactory(
        institution=argentina,
        status="published",
        submitted_at=timezone.now() - datetime.timedelta(days=60),
    )
    client.force_login(secretariat)
    response = client.get(CHANGELIST, {"status__exact": "submitted"})
    assert response.context["cl"].result_count == 4
    assert (
        client.get(CHANGELIST, {"status__exact": "submitted", "kind__exact": "need"})
        .context["cl"]
        .result_count
        == 1
    )
    assert list(client.get(CHANGELIST, {"waiting": "older"}).context["cl"].result_list) == [old]
    assert (
        client.get(CHANGELIST, {"country__id__exact": argentina.country_id})
        .context["cl"]
        .result_count
        == 2
    )


def test_revision_queue_waiting_filter_shows_only_pending(client, secretariat, focal_point, peru):
    def revision(status):
        listing = factories.ListingFactory(institution=peru)
        made = ListingRevision.objects.create(
            listing=listing, submitted_by=focal_point, data={}, status=status
        )
        ListingRevision.objects.filter(pk=made.pk).update(
            created=timezone.now() - datetime.timedelta(days=45)
        )
        return made

    waiting, _decided = revision("pending"), revision("returned")
    client.force_login(secretariat)
    response = client.get(
        reverse("admin:exchange_listingrevision_changelist"), {"waiting": "older"}
    )
    assert list(response.context["cl"].result_list) == [waiting]


def test_a_bulk_action_reports_each_row_it_could_not_change(client, secretariat, submitted, peru):
    published = factories.ListingFactory(institution=peru, title="Ya publicada")
    client.force_login(secretariat)
    response = client.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [submitted[0].pk, published.pk]},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "Ya publicada: This listing is published; it cannot be changed this way.",
        "1 listing published.",
    ]
    submitted[0].refresh_from_db()
    assert submitted[0].status == "published"
    assert Listing.objects.filter(status="published").count() == 2


def test_bulk_approve_goes_through_the_service(client, secretariat, submitted, focal_point):
    client.force_login(secretariat)
    client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [listing.pk for listing in submitted]}
    )
    assert Listing.objects.filter(status="published").count() == 3
    assert Notification.objects.filter(recipient=focal_point, kind="listing_approved").count() == 3


def test_return_asks_for_a_comment_first(client, secretariat, submitted):
    client.force_login(secretariat)
    target = submitted[0]
    page = client.post(
        CHANGELIST, {"action": "return_with_comment", "_selected_action": [target.pk]}
    )
    assert page.status_code == 200
    assert "Comment for the publisher" in page.content.decode()
    target.refresh_from_db()
    assert target.status == "submitted"
    empty = client.post(
        CHANGELIST,
        {
            "action": "return_with_comment",
            "_selected_action": [target.pk],
            "apply": "1",
            "comment": "",
        },
    )
    assert empty.context["form"].errors["comment"]
    client.post(
        CHANGELIST,
        {
            "action": "return_with_comment",
            "_selected_action": [target.pk],
            "apply": "1",
            "comment": "Falta el presupuesto.",
        },
    )
    target.refresh_from_db()
    assert (target.status, target.moderation_comment) == ("returned", "Falta el presupuesto.")


def test_wrong_state_is_reported_not_applied(client, secretariat, peru):
    draft = factories.ListingFactory(institution=peru, status="draft")
    client.force_login(secretariat)
    response = client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [draft.pk]}, follow=True
    )
    assert "cannot be changed this way" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_board_member_sees_the_queue_but_cannot_act(client, board_member, submitted):
    client.force_login(board_member)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    # No action is offered to a reader: the action form is not even shown.
    assert response.context["action_form"] is None
    client.post(CHANGELIST, {"action": "approve", "_selected_action": [submitted[0].pk]})
    submitted[0].refresh_from_db()
    assert submitted[0].status == "submitted"


def test_revision_diff_side_by_side(client, secretariat, focal_point, peru):
    listing = factories.ListingFactory(institution=peru, title="Título publicado")
    revision = ListingRevision.objects.create(
        listing=listing,
        submitted_by=focal_point,
        data={
            **{k: getattr(listing, k) for k in services.SCALAR_FIELDS if k != "review_by"},
            "title": "Título propuesto",
            "review_by": None,
            "focus_areas": listing.focus_area_ids,
            "sdgs": [factories.sdg(17).pk],
            "beneficiary_countries": [],
        },
    )
    client.force_login(secretariat)
    page = client.get(
        reverse("admin:exchange_listingrevision_change", args=[revision.pk])
    ).content.decode()
    assert "Título publicado" in page
    assert "<ins>Título propuesto</ins>" in page
    client.post(
        reverse("admin:exchange_listingrevision_changelist"),
        {"action": "approve", "_selected_action": [revision.pk]},
    )
    listing.refresh_from_db()
    assert listing.title == "Título propuesto"


def test_revision_diff_shows_the_review_date_that_will_apply(focal_point, secretariat, peru):
    from exchange.revisions import revision_diff

    listing = factories.ListingFactory(institution=peru, review_by=datetime.date(2031, 6, 30))
    data = {
        **{k: getattr(listing, k) for k in services.SCALAR_FIELDS if k != "review_by"},
        "focus_areas": listing.focus_area_ids,
        "sdgs": [factories.sdg(n).pk for n in listing.sdg_numbers],
        "beneficiary_countries": [],
    }
    revision = ListingRevision.objects.create(
        listing=listing, submitted_by=focal_point, data={**data, "review_by": None}
    )

    def review_row():
        label = str(Listing._meta.get_field("review_by").verbose_name)
        return next(change for change in revision_diff(revision) if change.label == label)

    # Left empty, the live date stays: nothing changes.
    assert (review_row().old, review_row().new, review_row().changed) == (
        "2031-06-30",
        "2031-06-30",
        False,
    )
    # A date that passed while the revision waited moves a year ahead on approval.
    listing.review_by = datetime.date(2020, 6, 1)
    listing.save(update_fields=["review_by"])
    revision.data["review_by"] = "2020-01-01"
    revision.save(update_fields=["data"])
    revision = ListingRevision.objects.get(pk=revision.pk)
    ahead = (timezone.localdate() + services.REVIEW_PERIOD).isoformat()
    assert (review_row().old, review_row().new) == ("2020-06-01", ahead)
    services.revision_approve(revision=revision, by=secretariat)
    listing.refresh_from_db()
    assert listing.review_by.isoformat() == ahead


@pytest.mark.parametrize("rows", [1, 15])
def test_queue_query_count(client, secretariat, peru, django_assert_num_queries, rows):
    factories.ListingFactory.create_batch(
        rows, institution=peru, status="submitted", submitted_at=timezone.now()
    )
    client.force_login(secretariat)
    client.get(CHANGELIST, {"status__exact": "submitted"})
    # session, user, MFA check, counts and rows of the change list, filter choices
    with django_assert_num_queries(9):
        response = client.get(CHANGELIST, {"status__exact": "submitted"})
    assert response.context["cl"].result_count == rows


@pytest.mark.parametrize("rows", [1, 8])
def test_revision_queue_query_count(
    client, secretariat, focal_point, peru, django_assert_num_queries, rows
):
    for listing in factories.ListingFactory.create_batch(rows, institution=peru):
        ListingRevision.objects.create(
            listing=listing, submitted_by=focal_point, data={"title": "Nuevo"}
        )
    client.force_login(secretariat)
    url = reverse("admin:exchange_listingrevision_changelist")
    client.get(url, {"status__exact": "pending"})
    # session, user, MFA check, counts and rows of the change list, the country filter
    with django_assert_num_queries(7):
        response = client.get(url, {"status__exact": "pending"})
    assert response.context["cl"].result_count == rows


def test_archive_asks_for_confirmation_then_notifies(
    client, secretariat, focal_point, peru, django_capture_on_commit_callbacks
):
    listing = factories.ListingFactory(institution=peru)
    client.force_login(secretariat)
    page = client.post(CHANGELIST, {"action": "archive", "_selected_action": [listing.pk]})
    assert page.status_code == 200
    assert "cannot come back" in page.content.decode()
    listing.refresh_from_db()
    assert listing.status == "published"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            CHANGELIST, {"action": "archive", "_selected_action": [listing.pk], "apply": "1"}
        )
    listing.refresh_from_db()
    assert listing.status == "archived"
    assert Notification.objects.get(recipient=focal_point).kind == "listing_archived"


def test_reject_from_the_admin_notifies_with_the_reason(
    client, secretariat, focal_point, submitted, django_capture_on_commit_callbacks
):
    client.force_login(secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            CHANGELIST,
            {
                "action": "reject",
                "_selected_action": [submitted[0].pk],
                "apply": "1",
                "comment": "Fuera del alcance de la red.",
            },
        )
    submitted[0].refresh_from_db()
    assert (submitted[0].status, submitted[0].moderation_comment) == (
        "rejected",
        "Fuera del alcance de la red.",
    )
    note = Notification.objects.get(recipient=focal_point)
    assert (note.kind, note.params["comment"]) == (
        "listing_rejected",
        "Fuera del alcance de la red.",
    )


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("approve", "approved", "revision_approved"),
        ("return_with_comment", "returned", "revision_returned"),
        ("reject", "rejected", "revision_rejected"),
    ],
)
def test_revision_decisions_from_the_admin_notify_the_publisher(
    client,
    secretariat,
    focal_point,
    peru,
    draft_data,
    django_capture_on_commit_callbacks,
    action,
    status,
    kind,
):
    listing = factories.ListingFactory(institution=peru, title="Título publicado")
    revision = services.listing_update(
        listing=listing, by=focal_point, data=draft_data(title="Título propuesto")
    )
    client.force_login(secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:exchange_listingrevision_changelist"),
            {
                "action": action,
                "_selected_action": [revision.pk],
                "apply": "1",
                "comment": "Motivo de la decisión.",
            },
        )
    revision.refresh_from_db()
    listing.refresh_from_db()
    assert revision.status == status
    assert listing.title == ("Título propuesto" if status == "approved" else "Título publicado")
    assert Notification.objects.get(recipient=focal_point).kind == kind


def _change_page(client, listing):
    return client.get(reverse("admin:exchange_listing_change", args=[listing.pk]))


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("submitted", ["approve", "return_with_comment", "reject"]),
        ("published", ["archive"]),
        ("expired", ["archive"]),
        ("rejected", ["archive"]),
        ("draft", []),
        ("returned", []),
        ("archived", []),
    ],
)
def test_a_listings_page_offers_the_decisions_its_state_allows(
    client, secretariat, peru, status, offered
):
    listing = factories.ListingFactory(institution=peru, status=status)
    client.force_login(secretariat)
    response = _change_page(client, listing)
    assert [name for name, _label in response.context["decisions"]] == offered
    page = response.content.decode()
    for name in offered:
        assert f'<button type="submit" name="action" value="{name}">' in page
    assert ('class="moderation-decisions"' in page) == bool(offered)


def test_a_board_member_is_offered_no_decision(client, board_member, submitted):
    client.force_login(board_member)
    response = _change_page(client, submitted[0])
    assert response.status_code == 200
    assert response.context["decisions"] == []
    assert "moderation-decisions" not in response.content.decode()


def test_deciding_from_a_listings_page(
    client, secretariat, focal_point, submitted, django_capture_on_commit_callbacks
):
    """The page's buttons post to the list's actions: returning asks for the comment on
    the same intermediate page, then the service decides and the publisher is told."""
    target, other = submitted[0], submitted[1]
    client.force_login(secretariat)
    page = _change_page(client, target).content.decode()
    assert f'action="{CHANGELIST}"' in page
    assert f'name="_selected_action" value="{target.pk}"' in page
    ask = client.post(CHANGELIST, {"_selected_action": target.pk, "action": "return_with_comment"})
    assert "Comment for the publisher" in ask.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            CHANGELIST,
            {
                "_selected_action": target.pk,
                "action": "return_with_comment",
                "apply": "1",
                "comment": "Precisen la duración.",
            },
            follow=True,
        )
    assert "1 listing returned." in done.content.decode()
    target.refresh_from_db()
    other.refresh_from_db()
    assert (target.status, target.moderation_comment, other.status) == (
        "returned",
        "Precisen la duración.",
        "submitted",
    )
    assert Notification.objects.get(recipient=focal_point).kind == "listing_returned"
    client.post(CHANGELIST, {"_selected_action": other.pk, "action": "approve"})
    other.refresh_from_db()
    assert other.status == "published"


def test_a_listings_page_lists_its_documents_and_the_proposed_ones(
    client, secretariat, focal_point, peru, draft_data
):
    listing = factories.ListingFactory(institution=peru)
    own = factories.DocumentFactory(listing=listing, name="Términos de referencia.pdf")
    revision = services.listing_update(listing=listing, by=focal_point, data=draft_data())
    proposed = factories.DocumentFactory(listing=listing, revision=revision, name="Presupuesto.pdf")
    client.force_login(secretariat)
    page = _change_page(client, listing).content.decode()
    for document in (own, proposed):
        url = reverse("exchange:document", args=[listing.pk, document.pk])
        assert f'<a href="{url}" download>{document.name}</a>' in page
    assert page.count('alt="True"') == 1
    # Files are the publishers' to add and remove: nothing to add or delete here.
    assert 'name="documents-MAX_NUM_FORMS" value="0"' in page
    assert "documents-0-DELETE" not in page


@pytest.mark.parametrize(("status", "offered"), [("pending", 3), ("approved", 0)])
def test_a_revisions_page_offers_its_decisions_while_it_waits(
    client, secretariat, focal_point, peru, draft_data, status, offered
):
    listing = factories.ListingFactory(institution=peru)
    revision = services.listing_update(listing=listing, by=focal_point, data=draft_data())
    ListingRevision.objects.filter(pk=revision.pk).update(status=status)
    client.force_login(secretariat)
    response = client.get(reverse("admin:exchange_listingrevision_change", args=[revision.pk]))
    assert [name for name, _label in response.context["decisions"]] == [
        "approve",
        "return_with_comment",
        "reject",
    ][:offered]
    page = response.content.decode()
    assert (f'action="{reverse("admin:exchange_listingrevision_changelist")}"' in page) == bool(
        offered
    )
