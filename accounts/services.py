"""Every change to institutions, accounts, invitations and notifications.

Each function takes the acting user (``by``), checks the permission named in
``accounts/rules.py``, validates, writes inside a transaction and schedules its e-mails with
``transaction.on_commit``. Views, the admin and tasks call these; none writes a model itself.
"""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import ApiToken, Institution, Invitation, Notification, User

Role = User.Role
Kind = User.NotificationKind


def _require(user, permission: str, obj=None) -> None:
    if not user.has_perm(permission, obj):
        raise PermissionDenied(_("You are not allowed to do this."))


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("Enter a valid e-mail address, such as name@example.org.")}
        ) from None
    return email


# --- Notifications ---------------------------------------------------------------------------


def notification_create(*, recipient: User, kind: str, params: dict, url: str = "") -> Notification:
    """Put a notification in the recipient's inbox and e-mail it after commit.

    The e-mail is skipped (and recorded as such) when the recipient turned that kind off.
    ``params`` must hold JSON primitives; the text is rendered in the recipient's language
    when shown or sent, so it is never stored in one language.
    """
    from accounts.tasks import task_send_notification_email

    opted_out = kind in recipient.email_opt_outs
    notification = Notification(
        recipient=recipient,
        kind=kind,
        params=params,
        url=url,
        email_status=(
            Notification.EmailStatus.SKIPPED if opted_out else Notification.EmailStatus.PENDING
        ),
    )
    notification.full_clean()
    notification.save()
    if not opted_out:
        transaction.on_commit(
            lambda: task_send_notification_email.delay(notification_id=notification.pk)
        )
    return notification


def notifications_notify_institution(
    *, institution: Institution, kind: str, params: dict, url: str = ""
) -> list[Notification]:
    """Notify every active account that acts for an institution."""
    recipients = institution.members.filter(
        is_active=True, role__in=[Role.FOCAL_POINT, Role.DELEGATE, Role.PARTNER]
    )
    return [
        notification_create(recipient=user, kind=kind, params=params, url=url)
        for user in recipients
    ]


def notification_mark_read(*, notification: Notification, by: User) -> None:
    if notification.recipient_id != by.pk:
        raise PermissionDenied(_("You are not allowed to do this."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def notifications_mark_all_read(*, by: User) -> int:
    return by.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def user_update_preferences(*, user: User, language: str, email_opt_outs: list[str]) -> User:
    """Change the language of a person's e-mails and pages, and which kinds they receive."""
    user.language = language
    user.email_opt_outs = sorted(set(email_opt_outs))
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language", "email_opt_outs"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])


# --- Invitations -----------------------------------------------------------------------------


def _invitation_create(
    *, email: str, role: str, institution: Institution | None, by: User, language: str
) -> Invitation:
    from accounts.tasks import task_send_invitation

    email = _clean_email(email)
    if (
        User.objects.filter(email__iexact=email, is_active=True)
        .exclude(role=Role.FOCAL_POINT, institution=institution)
        .exists()
    ):
        raise ValidationError(
            {"email": _("This address already has an active account on CooperaNet.")}
        )
    # A new invitation replaces any earlier one still pending for the same address and role.
    Invitation.objects.filter(
        email__iexact=email, role=role, status=Invitation.Status.PENDING
    ).update(status=Invitation.Status.REVOKED)
    invitation = Invitation(
        email=email,
        role=role,
        institution=institution,
        invited_by=by,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    transaction.on_commit(lambda: task_send_invitation.delay(invitation_id=invitation.pk))
    return invitation


@transaction.atomic
def focal_point_designate(
    *, institution: Institution, mailbox: str, by: User, language: str = "es"
) -> Invitation:
    """Designate a Member State's institutional account, bound to the institutional mailbox.

    E-mails an invitation to the mailbox. The institution keeps its content; after a staff
    rotation the previous account stays active until the new mailbox accepts.
    """
    _require(by, "accounts.designate_focal_point", institution)
    if institution.type != Institution.Type.COOPERATION_AUTHORITY:
        raise ValidationError(
            {"institution": _("Only a Member State's Cooperation Authority has a focal point.")}
        )
    mailbox = _clean_email(mailbox)
    institution.mailbox = mailbox
    if institution.designation_status == Institution.Designation.NOT_DESIGNATED:
        institution.designation_status = Institution.Designation.INVITED
    institution.full_clean()
    institution.save(update_fields=["mailbox", "designation_status", "updated"])
    return _invitation_create(
        email=mailbox, role=Role.FOCAL_POINT, institution=institution, by=by, language=language
    )


@transaction.atomic
def delegate_invite(*, institution: Institution, email: str, by: User) -> Invitation:
    """A focal point invites a named person to act for its institution."""
    _require(by, "accounts.invite_delegate", institution)
    return _invitation_create(
        email=email, role=Role.DELEGATE, institution=institution, by=by, language=by.language
    )


@transaction.atomic
def staff_invite(
    *, email: str, role: str, by: User, institution: Institution | None = None, language: str = "en"
) -> Invitation:
    """The Secretariat invites a mission liaison, a board member or a Secretariat colleague."""
    _require(by, "accounts.invite_staff")
    if role == Role.MISSION_LIAISON:
        if institution is None or institution.type != Institution.Type.PERMANENT_MISSION:
            raise ValidationError(
                {"institution": _("A mission liaison belongs to a Permanent Mission.")}
            )
    elif role in (Role.BOARD_MEMBER, Role.SECRETARIAT):
        institution = None
    else:
        raise ValidationError({"role": _("This role is not given by a Secretariat invitation.")})
    return _invitation_create(
        email=email, role=role, institution=institution, by=by, language=language
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User) -> None:
    permission = (
        "accounts.revoke_delegate" if invitation.role == Role.DELEGATE else "accounts.invite_staff"
    )
    _require(by, permission, invitation)
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(_("Only a pending invitation can be revoked."))
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])


def invitation_check_usable(invitation: Invitation) -> None:
    """Raise a ValidationError that tells the person why a link no longer works."""
    if invitation.status == Invitation.Status.ACCEPTED:
        raise ValidationError(
            _("This invitation has already been used. Sign in with your e-mail and password.")
        )
    if invitation.status == Invitation.Status.REVOKED:
        raise ValidationError(
            _("This invitation was withdrawn. Ask the person who invited you for a new one.")
        )
    if invitation.is_expired:
        raise ValidationError(
            _("This invitation has expired. Ask the person who invited you to send a new one.")
        )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Create (or take over) the invited account, verified, with its role and institution.

    For a focal point this completes the designation: the institution is marked designated
    and earlier focal-point accounts of the same institution are deactivated (staff
    rotation), while everything they published stays with the institution.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation_check_usable(invitation)
    full_name = (full_name or "").strip()
    if invitation.role != Role.FOCAL_POINT and not full_name:
        raise ValidationError({"full_name": _("Enter your full name.")})

    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email)
    validate_password(password, user)
    user.full_name = full_name or user.full_name
    user.role = invitation.role
    user.institution = invitation.institution
    user.is_staff = invitation.role in (Role.SECRETARIAT, Role.BOARD_MEMBER)
    user.is_active = True
    user.revoked_at = None
    user.language = invitation.language
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user,
        email=user.email,
        defaults={"verified": True, "primary": True},
    )

    now = timezone.now()
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = now
    invitation.user = user
    invitation.save(update_fields=["status", "accepted_at", "user"])

    institution = invitation.institution
    if invitation.role == Role.FOCAL_POINT:
        for previous in institution.members.filter(role=Role.FOCAL_POINT, is_active=True).exclude(
            pk=user.pk
        ):
            _deactivate(previous, when=now)
        institution.designation_status = Institution.Designation.DESIGNATED
        institution.designated_at = now
        institution.mailbox = user.email
        institution.save(update_fields=["designation_status", "designated_at", "mailbox"])
    elif invitation.role == Role.DELEGATE:
        for focal_point in institution.members.filter(role=Role.FOCAL_POINT, is_active=True):
            notification_create(
                recipient=focal_point,
                kind=Kind.DELEGATE_JOINED,
                params={"name": user.get_full_name(), "email": user.email},
                url=reverse("accounts:institution"),
            )
    return user


def _deactivate(user: User, *, when) -> None:
    user.is_active = False
    user.revoked_at = when
    user.save(update_fields=["is_active", "revoked_at"])
    for session in UserSession.objects.filter(user=user):
        session.end()


@transaction.atomic
def delegate_revoke(*, delegate: User, by: User) -> None:
    """End a delegate's access at once; what they did stays attributed to them."""
    _require(by, "accounts.revoke_delegate", delegate)
    if delegate.role != Role.DELEGATE:
        raise ValidationError(_("Only a delegate's access can be revoked here."))
    if not delegate.is_active:
        raise ValidationError(_("This delegate's access was already revoked."))
    _deactivate(delegate, when=timezone.now())


@transaction.atomic
def invitations_expire() -> int:
    """Mark invitations past their date as expired (run hourly by Celery beat)."""
    return Invitation.objects.filter(
        status=Invitation.Status.PENDING, expires_at__lte=timezone.now()
    ).update(status=Invitation.Status.EXPIRED)


# --- Partners --------------------------------------------------------------------------------


@transaction.atomic
def partner_register(
    *,
    user: User,
    organisation_name: str,
    organisation_type: str,
    country=None,
    website: str = "",
    full_name: str = "",
) -> Institution:
    """A self sign-up: the organisation waits for Secretariat vetting before it may publish."""
    if organisation_type not in Institution.PARTNER_TYPES:
        raise ValidationError(
            {"organisation_type": _("Choose the kind of organisation you represent.")}
        )
    institution = Institution(
        name=organisation_name.strip(),
        type=organisation_type,
        country=country,
        website=website,
        vetting_status=Institution.Vetting.PENDING,
    )
    institution.full_clean()
    institution.save()
    user.role = Role.PARTNER
    user.institution = institution
    user.full_name = full_name.strip()
    user.save(update_fields=["role", "institution", "full_name"])
    return institution


def _partner_decide(*, institution: Institution, by: User, status: str, kind: str) -> Institution:
    _require(by, "accounts.vet_partner", institution)
    if not institution.is_partner:
        raise ValidationError(_("Only partner organisations are vetted."))
    if institution.vetting_status == status:
        return institution
    institution.vetting_status = status
    institution.vetted_at = timezone.now()
    institution.save(update_fields=["vetting_status", "vetted_at", "updated"])
    notifications_notify_institution(
        institution=institution,
        kind=kind,
        params={"organisation": institution.name},
        url=reverse("accounts:dashboard"),
    )
    return institution


@transaction.atomic
def partner_vet(*, institution: Institution, by: User) -> Institution:
    """Accept a partner organisation; its people are notified and may publish offers."""
    return _partner_decide(
        institution=institution, by=by, status=Institution.Vetting.VETTED, kind=Kind.PARTNER_VETTED
    )


@transaction.atomic
def partner_reject(*, institution: Institution, by: User) -> Institution:
    """Decline a partner organisation; its people are notified."""
    return _partner_decide(
        institution=institution,
        by=by,
        status=Institution.Vetting.REJECTED,
        kind=Kind.PARTNER_REJECTED,
    )


# --- Institution profile ---------------------------------------------------------------------


@transaction.atomic
def institution_update_profile(
    *, institution: Institution, by: User, website: str, description: str
) -> Institution:
    """The people of an institution keep its public profile up to date."""
    _require(by, "accounts.edit_institution_profile", institution)
    institution.website = website
    institution.description = description
    institution.full_clean()
    institution.save(update_fields=["website", "description", "updated"])
    return institution


# --- API tokens ------------------------------------------------------------------------------

TOKEN_LIFETIMES = {30: timedelta(days=30), 90: timedelta(days=90), 365: timedelta(days=365)}


@transaction.atomic
def api_token_create(*, user: User, name: str = "", days: int = 90) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and only its digest is kept."""
    _require(user, "accounts.create_api_token")
    if days not in TOKEN_LIFETIMES:
        raise ValidationError({"days": _("Choose a lifetime of 30, 90 or 365 days.")})
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters for the name.")})
    if selectors.api_tokens_of(user).count() >= settings.REST_KNOX["TOKEN_LIMIT_PER_USER"]:
        raise ValidationError(
            _("You have reached the maximum number of tokens. Revoke one you no longer use.")
        )
    return ApiToken.objects.create(user=user, expiry=TOKEN_LIFETIMES[days], name=name)


def api_token_for_password(*, request, email: str, password: str) -> tuple[ApiToken, str]:
    """A token for scripts that sign in with e-mail and password: only for accounts without
    two-factor authentication (those create tokens on their profile page) and with a verified
    address. Failures count towards the axes lock-out like any sign-in."""
    user = authenticate(request, email=(email or "").strip().lower(), password=password or "")
    if user is None or not user.is_active:
        raise ValidationError(_("The e-mail address and password do not match an active account."))
    if Authenticator.objects.filter(user=user).exists():
        raise PermissionDenied(
            _(
                "This account uses two-factor authentication: create a token on your "
                "profile page instead."
            )
        )
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        raise PermissionDenied(_("Verify your e-mail address before you use the API."))
    return api_token_create(user=user, name=_("Password sign-in"), days=90)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> None:
    _require(by, "accounts.revoke_api_token", token)
    token.delete()
