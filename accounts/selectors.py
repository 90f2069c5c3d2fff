"""The reads of accounts that pages and the API rely on, each with a known query count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Country, Institution, Invitation, Notification, User

Role = User.Role


def countries_participating() -> QuerySet[Country]:
    return Country.objects.filter(participates=True).order_by(Country.name_field())


@dataclass(frozen=True)
class DesignationRow:
    country: Country
    authority: Institution | None
    status: str
    status_label: str
    mailbox: str
    last_activity: datetime | None


@dataclass(frozen=True)
class DesignationOverview:
    rows: list[DesignationRow]
    designated: int
    total: int

    @property
    def percentage(self) -> int:
        return round(100 * self.designated / self.total) if self.total else 0


def designation_overview() -> DesignationOverview:
    """The participating Member States with the state of their institutional account.

    Two queries whatever the number of countries: the countries, then their Authorities
    with the latest sign-in of any of the Authority's accounts.
    """
    authorities = Institution.objects.filter(type=Institution.Type.COOPERATION_AUTHORITY).annotate(
        last_activity=Max("members__last_login")
    )
    countries = list(
        countries_participating().prefetch_related(
            Prefetch("institutions", queryset=authorities, to_attr="authorities")
        )
    )
    rows = []
    for country in countries:
        authority = country.authorities[0] if country.authorities else None
        status = (
            authority.designation_status if authority else Institution.Designation.NOT_DESIGNATED
        )
        rows.append(
            DesignationRow(
                country=country,
                authority=authority,
                status=status,
                status_label=Institution.Designation(status).label,
                mailbox=authority.mailbox if authority else "",
                last_activity=authority.last_activity if authority else None,
            )
        )
    designated = sum(row.status == Institution.Designation.DESIGNATED for row in rows)
    return DesignationOverview(rows=rows, designated=designated, total=len(rows))


def institution_people(institution: Institution) -> QuerySet[User]:
    """The accounts acting for an institution, the focal point first."""
    return institution.members.filter(
        role__in=[Role.FOCAL_POINT, Role.DELEGATE, Role.PARTNER, Role.MISSION_LIAISON]
    ).order_by("-is_active", "role", "full_name", "email")


def institution_pending_invitations(institution: Institution) -> QuerySet[Invitation]:
    return institution.invitations.filter(status=Invitation.Status.PENDING).select_related(
        "invited_by"
    )


def notifications_for(user: User) -> QuerySet[Notification]:
    return user.notifications.order_by("-created", "-id")


def unread_notification_count(user: User) -> int:
    return user.notifications.filter(read_at__isnull=True).count()


def partners_awaiting_vetting() -> QuerySet[Institution]:
    return Institution.objects.filter(
        Q(vetting_status=Institution.Vetting.PENDING),
        type__in=Institution.PARTNER_TYPES,
    ).select_related("country")


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """A person's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )
