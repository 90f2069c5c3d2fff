"""What each kind of notification says, in the language active when it is rendered.

Apps register a renderer per kind; the inbox and the e-mail both use it, so a notification
is stored once (kind + parameters) and read in whichever language its reader uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import User

Kind = User.NotificationKind


@dataclass(frozen=True)
class Message:
    title: str
    body: str


_renderers: dict[str, Callable[[dict], Message]] = {}


def renders(kind: str):
    def register(function: Callable[[dict], Message]):
        _renderers[kind] = function
        return function

    return register


def render(kind: str, params: dict) -> Message:
    return _renderers[kind](params)


@renders(Kind.PARTNER_VETTED)
def _partner_vetted(params: dict) -> Message:
    return Message(
        title=_("%(organisation)s is now a vetted partner") % params,
        body=_(
            "The Secretariat has vetted %(organisation)s. You can now publish cooperation "
            "offers on CooperaNet."
        )
        % params,
    )


@renders(Kind.PARTNER_REJECTED)
def _partner_rejected(params: dict) -> Message:
    return Message(
        title=_("%(organisation)s was not accepted as a partner") % params,
        body=_(
            "The Secretariat could not accept %(organisation)s as a CooperaNet partner. "
            "Write to the Secretariat if you would like to know more."
        )
        % params,
    )


@renders(Kind.DELEGATE_JOINED)
def _delegate_joined(params: dict) -> Message:
    return Message(
        title=_("%(name)s joined your institution") % params,
        body=_(
            "%(name)s (%(email)s) accepted your invitation and can now act for your "
            "institution. Everything they do is recorded under their name."
        )
        % params,
    )


@renders(Kind.FOCAL_POINT_DESIGNATED)
def _focal_point_designated(params: dict) -> Message:
    return Message(
        title=_("The institutional account of %(country)s is active") % params,
        body=_("%(email)s now holds the institutional account of %(country)s.") % params,
    )
