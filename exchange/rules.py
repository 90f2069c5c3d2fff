"""Who may do what with listings and connections; services, views, API and admin name these.

A listing belongs to its institution: the institution's focal point and delegates (and the
people of a vetted partner) act on it. A mission liaison reads everything of its country and
drafts for the country's Cooperation Authority, but does not submit. Board members read
everything and change nothing. The Secretariat moderates.
"""

from __future__ import annotations

import rules

from accounts.rules import (
    is_delegate,
    is_focal_point,
    is_member_of,
    is_mission_liaison,
    is_secretariat,
    is_staff_reader,
    is_vetted_partner,
)
from exchange.models import Listing

PUBLIC_STATUSES = frozenset({"published"})
EDITABLE_STATUSES = frozenset({"draft", "returned", "withdrawn", "published", "expired"})
DRAFT_STATUSES = frozenset({"draft", "returned"})
# A change to a listing in these states is a revision for the Secretariat; the live text stays.
REVISED_STATUSES = frozenset({"published", "expired"})
# The Secretariat's decisions on a listing, and the states each may be taken from.
MODERATED_FROM = {
    "approve": frozenset({"submitted"}),
    "return": frozenset({"submitted"}),
    "reject": frozenset({"submitted"}),
    "archive": frozenset({"published", "expired", "withdrawn", "rejected"}),
}


def moderation_decisions(listing: Listing) -> list[str]:
    """The decisions the Secretariat can take on ``listing`` now (MODERATED_FROM order)."""
    return [decision for decision, states in MODERATED_FROM.items() if listing.status in states]


def revision_decisions(revision) -> list[str]:
    """The decisions the Secretariat can take on a revision: all three while it waits."""
    return ["approve", "return", "reject"] if revision.status == "pending" else []


@rules.predicate
def acts_for_an_institution(user) -> bool:
    return bool(is_focal_point(user) or is_delegate(user) or is_vetted_partner(user))


@rules.predicate
def may_publish_needs(user) -> bool:
    return bool(is_focal_point(user) or is_delegate(user) or is_mission_liaison(user))


@rules.predicate
def is_publisher_of(user, listing) -> bool:
    """Acts for the institution that owns the listing."""
    return bool(
        listing is not None
        and acts_for_an_institution(user)
        and user.institution_id == listing.institution_id
    )


@rules.predicate
def is_liaison_for(user, listing) -> bool:
    """A mission liaison of the country whose Member-State institutions publish the listing
    (a partner based in that country publishes for itself, not for the country), as
    ``selectors._of_country`` selects them."""
    return bool(
        listing is not None
        and is_mission_liaison(user)
        and listing.country_id is not None
        and listing.publisher_type == Listing.PublisherType.MEMBER_STATE
        and user.institution.country_id == listing.country_id
    )


@rules.predicate
def is_published(user, listing) -> bool:
    return listing is not None and listing.status in PUBLIC_STATUSES


@rules.predicate
def is_editable(user, listing) -> bool:
    return listing is not None and listing.status in EDITABLE_STATUSES


@rules.predicate
def is_a_draft(user, listing) -> bool:
    return listing is not None and listing.status in DRAFT_STATUSES


@rules.predicate
def is_not_own_listing(user, listing) -> bool:
    return listing is not None and user.institution_id != listing.institution_id


@rules.predicate
def is_party_to(user, connection) -> bool:
    """Acts for the institution that showed interest or for the one that published."""
    return bool(
        connection is not None
        and acts_for_an_institution(user)
        and user.institution_id in (connection.institution_id, connection.listing.institution_id)
    )


can_view_listing = is_published | is_publisher_of | is_liaison_for | is_staff_reader

rules.add_perm("exchange.create_listing", acts_for_an_institution | is_mission_liaison)
rules.add_perm("exchange.create_need", may_publish_needs)
rules.add_perm("exchange.view_listing", can_view_listing)
rules.add_perm(
    "exchange.edit_listing",
    (is_publisher_of & is_editable) | (is_liaison_for & is_a_draft),
)
rules.add_perm("exchange.submit_listing", is_publisher_of)
rules.add_perm("exchange.withdraw_listing", is_publisher_of)
rules.add_perm("exchange.renew_listing", is_publisher_of)
rules.add_perm("exchange.manage_documents", is_publisher_of & is_editable)
rules.add_perm("exchange.view_listing_history", is_publisher_of | is_liaison_for | is_staff_reader)
# Files proposed with a revision are not public until the Secretariat approves them.
rules.add_perm(
    "exchange.view_proposed_documents", is_publisher_of | is_liaison_for | is_staff_reader
)
rules.add_perm("exchange.moderate_listing", is_secretariat)
rules.add_perm("exchange.view_moderation_queue", is_staff_reader)
rules.add_perm(
    "exchange.express_interest", acts_for_an_institution & is_published & is_not_own_listing
)
rules.add_perm("exchange.view_connection", is_party_to | is_staff_reader)
rules.add_perm("exchange.update_connection", is_party_to)
rules.add_perm("exchange.view_dashboard_listings", acts_for_an_institution | is_mission_liaison)

# --- The admin: the Secretariat manages reference data and moderates, board members read ----

rules.add_perm("exchange", is_staff_reader)
for model in ("focusarea", "sdg"):
    rules.add_perm(f"exchange.view_{model}", is_staff_reader)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"exchange.{action}_{model}", is_secretariat)
# exchange.view_listing and view_connection above already let staff readers see those.
for model in ("listingrevision", "listingdocument", "importjob"):
    rules.add_perm(f"exchange.view_{model}", is_staff_reader)
for model in ("listing", "listingrevision", "connection", "listingdocument"):
    # The admin offers the moderation actions only; content is never edited in a raw form.
    rules.add_perm(f"exchange.change_{model}", is_secretariat)

# --- Imports: upsert of a national catalogue by external reference (object: the institution) --


@rules.predicate
def publishes_needs(user, institution) -> bool:
    """Member-State institutions publish needs; partners publish offers only."""
    return institution is not None and not institution.is_partner


# Its own people import an institution's catalogue (a vetted partner its offers only); the
# Secretariat imports for any institution.
rules.add_perm("exchange.import_listings", is_member_of | is_secretariat)
rules.add_perm("exchange.import_needs", (is_member_of | is_secretariat) & publishes_needs)
