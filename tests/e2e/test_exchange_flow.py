"""The exchange in a real browser: a focal point writes and submits an offer, the
Secretariat returns it with a comment in the admin, the focal point corrects and resubmits,
the Secretariat approves, the offer is found in the catalogue and on the country profile,
and another institution expresses interest, which the publisher sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from exchange.models import Connection, Listing
from tests.e2e.test_accounts_flows import (
    fresh_totp_code,
    messages,
    staff_with_known_totp,
    submit_password,
    submit_totp,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Gestión del riesgo de desastres en cuencas andinas"


def _sign_in_secretariat(page: Page) -> None:
    _user, secret = staff_with_known_totp("moderator@example.org")
    submit_password(page, "moderator@example.org")
    submit_totp(page, fresh_totp_code(secret, set()))


def _moderate(page: Page, listing: Listing, action: str, comment: str | None = None) -> None:
    page.goto("/admin/exchange/listing/?status__exact=submitted")
    page.locator(f"input[name=_selected_action][value='{listing.pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="Go").click()
    if comment is not None:
        page.get_by_label("Comment for the publisher").fill(comment)
        page.get_by_role("button", name="Confirm").click()
    expect(page.locator("ul.messagelist")).to_be_visible()


def test_offer_from_draft_to_catalogue_and_interest(
    new_page, live_server, focal_point, other_focal_point, peru
):
    author = new_page()
    submit_password(author, focal_point.email)
    author.goto("/dashboard/listings/")
    author.get_by_role("link", name="New offer").click()
    author.get_by_label("Title").fill(TITLE)
    author.get_by_label("Summary").fill(
        "Asistencia técnica en sistemas de alerta temprana y agua potable."
    )
    author.get_by_label("Description").fill("Pasantías y **misiones de expertos** para municipios.")
    author.get_by_label("Language of the content").select_option("es")
    author.get_by_label("Sustainable Development and Environment").check()
    author.get_by_label("13. Climate Action").check()
    author.get_by_role("button", name="Save draft").click()
    expect(messages(author)).to_contain_text("The draft was saved")
    listing = Listing.objects.get(title=TITLE)

    # Submitting an incomplete listing says what is missing and changes nothing.
    author.get_by_role("link", name="Submit for review").click()
    author.get_by_role("button", name="Submit").click()
    expect(author.locator(".errors")).to_contain_text(
        "Modality: This field is required before the listing is submitted."
    )
    listing.refresh_from_db()
    assert listing.status == "draft"

    author.goto(f"/listings/{listing.pk}/edit/")
    author.get_by_label("Modality").select_option("south_south")
    author.get_by_label("Type of cooperation").select_option("technical_assistance")
    author.get_by_label("Stage").select_option("in_execution")
    author.get_by_label("Contact e-mail").fill("riesgo@apci.example.org")
    author.get_by_role("button", name="Save draft").click()
    author.get_by_role("link", name="Submit for review").click()
    author.get_by_role("button", name="Submit").click()
    expect(messages(author)).to_contain_text("Submitted")
    listing.refresh_from_db()
    assert listing.status == "submitted"

    moderator = new_page()
    _sign_in_secretariat(moderator)
    _moderate(moderator, listing, "return_with_comment", "Indiquen la duración prevista.")
    listing.refresh_from_db()
    assert (listing.status, listing.moderation_comment) == (
        "returned",
        "Indiquen la duración prevista.",
    )

    author.goto(listing.get_absolute_url())
    expect(author.locator(".notice")).to_contain_text("Indiquen la duración prevista.")
    author.goto(f"/listings/{listing.pk}/edit/")
    author.get_by_label("Duration (months)").fill("12")
    author.get_by_role("button", name="Save draft").click()
    author.get_by_role("link", name="Submit for review").click()
    author.get_by_role("button", name="Submit").click()
    listing.refresh_from_db()
    assert (listing.status, listing.duration_months) == ("submitted", 12)

    _moderate(moderator, listing, "approve")
    listing.refresh_from_db()
    assert listing.status == "published"

    visitor = new_page()
    visitor.goto("/catalogue/")
    visitor.get_by_label("Search").first.fill("gestion del riesgo")
    visitor.get_by_role("button", name="Search").click()
    expect(visitor.locator(".listing-card")).to_have_count(1)
    expect(visitor.locator(".listing-card mark").first).to_have_text(re.compile("Gestión|riesgo"))
    visitor.goto("/countries/PER/")
    expect(visitor.get_by_role("link", name=TITLE)).to_be_visible()

    interested = new_page()
    submit_password(interested, other_focal_point.email)
    interested.goto(listing.get_absolute_url())
    interested.get_by_label("Your message to the publisher").fill(
        "Nos interesa para la provincia de Jujuy."
    )
    interested.get_by_role("button", name="Express interest").click()
    expect(messages(interested)).to_contain_text("Your interest was sent")
    assert Connection.objects.get().institution == other_focal_point.institution

    author.goto("/dashboard/connections/")
    expect(author.locator("table")).to_contain_text(other_focal_point.institution.name)
    author.goto("/dashboard/notifications/")
    expect(author.locator(".notifications")).to_contain_text("is interested in")


def test_catalogue_filters_update_in_place_with_htmx(page: Page, peru, argentina):
    from tests import factories

    factories.ListingFactory(
        institution=peru,
        title="Agua potable: oferta peruana",
        relations__focus_areas=["sustainable-development-environment"],
    )
    factories.ListingFactory(
        institution=argentina,
        kind="need",
        title="Demanda argentina de turismo",
        relations__focus_areas=["sustainable-tourism"],
    )
    page.goto("/catalogue/")
    expect(page.locator(".listing-card")).to_have_count(2)
    page.locator(".facets input[name=kind][value=need]").check()
    expect(page.locator(".listing-card")).to_have_count(1)
    expect(page.locator(".listing-card")).to_contain_text("Demanda argentina de turismo")
    assert "kind=need" in page.url
    # The facets swapped in answer too, click after click, without a reload.
    page.locator(".facets input[name=kind][value=offer]").check()
    expect(page.locator(".listing-card")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"kind=need&kind=offer|kind=offer&kind=need"))
    page.locator(".facets input[name=kind][value=offer]").uncheck()
    expect(page.locator(".listing-card")).to_have_count(1)
    page.reload()
    expect(page.locator(".listing-card")).to_have_count(1)
    # Choosing another order takes effect at once too, without the Search button.
    page.locator(".facets input[name=kind][value=need]").uncheck()
    expect(page.locator(".listing-card")).to_have_count(2)
    expect(page.locator(".listing-card").first).to_contain_text("Demanda argentina de turismo")
    page.select_option("#sort", "title")
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(page.locator(".listing-card").first).to_contain_text("Agua potable: oferta peruana")
    page.select_option("#sort", "newest")
    expect(page.locator(".listing-card").first).to_contain_text("Demanda argentina de turismo")
