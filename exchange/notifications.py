"""What the exchange's notifications say; registered with accounts.notifications."""

from __future__ import annotations

import datetime

from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import Message, renders
from exchange.models import Connection

Kind = User.NotificationKind


def _with_comment(body: str, params: dict) -> str:
    if params.get("comment"):
        return body + "\n\n" + _("Comment of the Secretariat: %(comment)s") % params
    return body


@renders(Kind.LISTING_APPROVED)
def _approved(params: dict) -> Message:
    return Message(
        title=_("“%(title)s” is published") % params,
        body=_("The Secretariat approved “%(title)s”; it is now in the catalogue.") % params,
    )


@renders(Kind.LISTING_RETURNED)
def _returned(params: dict) -> Message:
    return Message(
        title=_("“%(title)s” was returned with comments") % params,
        body=_with_comment(
            _("The Secretariat asks for changes to “%(title)s” before publishing it.") % params,
            params,
        ),
    )


@renders(Kind.LISTING_REJECTED)
def _rejected(params: dict) -> Message:
    return Message(
        title=_("“%(title)s” was not accepted") % params,
        body=_with_comment(_("The Secretariat did not accept “%(title)s”.") % params, params),
    )


@renders(Kind.LISTING_ARCHIVED)
def _archived(params: dict) -> Message:
    return Message(
        title=_("“%(title)s” was archived") % params,
        body=_("The Secretariat archived “%(title)s”; it no longer appears in the catalogue.")
        % params,
    )


@renders(Kind.LISTING_EXPIRED)
def _expired(params: dict) -> Message:
    return Message(
        title=_("“%(title)s” expired") % params,
        body=_(
            "The review date of “%(title)s” has passed, so it left the catalogue. Renew it if "
            "it is still valid."
        )
        % params,
    )


@renders(Kind.LISTING_REVIEW_DUE)
def _review_due(params: dict) -> Message:
    day = formats.date_format(datetime.date.fromisoformat(params["review_by"]), "DATE_FORMAT")
    values = {"title": params["title"], "day": day}
    return Message(
        title=_("“%(title)s” is due for review on %(day)s") % values,
        body=_(
            "On %(day)s “%(title)s” leaves the catalogue unless you renew it. Renew it if it "
            "is still valid, or withdraw it if it is not."
        )
        % values,
    )


@renders(Kind.REVISION_APPROVED)
def _revision_approved(params: dict) -> Message:
    return Message(
        title=_("Your changes to “%(title)s” are published") % params,
        body=_("The Secretariat approved your changes to “%(title)s”.") % params,
    )


@renders(Kind.REVISION_RETURNED)
def _revision_returned(params: dict) -> Message:
    return Message(
        title=_("Your changes to “%(title)s” were returned") % params,
        body=_with_comment(
            _("The Secretariat asks you to rework your changes to “%(title)s”.") % params, params
        ),
    )


@renders(Kind.REVISION_REJECTED)
def _revision_rejected(params: dict) -> Message:
    return Message(
        title=_("Your changes to “%(title)s” were not accepted") % params,
        body=_with_comment(
            _("The published text of “%(title)s” stays as it was.") % params, params
        ),
    )


@renders(Kind.INTEREST_EXPRESSED)
def _interest(params: dict) -> Message:
    return Message(
        title=_("%(institution)s is interested in “%(title)s”") % params,
        body=_(
            "%(institution)s expressed interest in “%(title)s”. Follow the connection from "
            "your dashboard."
        )
        % params,
    )


@renders(Kind.CONNECTION_UPDATED)
def _connection(params: dict) -> Message:
    status = Connection.Status(params["status"]).label
    return Message(
        title=_("The connection on “%(title)s” is now: %(status)s")
        % {"title": params["title"], "status": status},
        body=_("The other institution moved the connection on “%(title)s” to “%(status)s”.")
        % {"title": params["title"], "status": status},
    )
