"""Countries, institutions, people and their roles, invitations and notifications."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken


class TranslatedNameMixin(models.Model):
    """A reference name kept in the four languages of the OAS."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_pt = models.CharField(_("name (Portuguese)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
        return getattr(self, f"name_{language}", None) or self.name_en

    @staticmethod
    def name_field() -> str:
        """The column that holds names in the active language, for ordering."""
        language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
        return f"name_{language}" if language in {"en", "es", "pt", "fr"} else "name_en"


class Country(TranslatedNameMixin):
    """A Member State of the OAS (reference data, editable by the Secretariat)."""

    iso2 = models.CharField(_("ISO alpha-2 code"), max_length=2, unique=True)
    iso3 = models.CharField(_("ISO alpha-3 code"), max_length=3, unique=True)
    participates = models.BooleanField(
        _("participates"),
        default=True,
        help_text=_("Takes part in OAS activities and counts in the designation figures."),
    )

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["name_en"]


class Institution(models.Model):
    """An organisation that acts on the platform; it owns everything its people publish."""

    class Type(models.TextChoices):
        COOPERATION_AUTHORITY = "cooperation_authority", _("Cooperation Authority")
        PERMANENT_MISSION = "permanent_mission", _("Permanent Mission to the OAS")
        PRIVATE_SECTOR = "private_sector", _("Private sector")
        FOUNDATION = "foundation", _("Foundation")
        ACADEMIA = "academia", _("Academia")
        INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")
        OBSERVER_AGENCY = "observer_agency", _("Permanent Observer State agency")
        OAS_UNIT = "oas_unit", _("OAS unit")

    PARTNER_TYPES = frozenset(
        {
            Type.PRIVATE_SECTOR,
            Type.FOUNDATION,
            Type.ACADEMIA,
            Type.INTERNATIONAL_ORGANISATION,
            Type.OBSERVER_AGENCY,
        }
    )

    class Vetting(models.TextChoices):
        NOT_APPLICABLE = "not_applicable", _("Not applicable")
        PENDING = "pending", _("Awaiting vetting")
        VETTED = "vetted", _("Vetted")
        REJECTED = "rejected", _("Rejected")

    class Designation(models.TextChoices):
        NOT_DESIGNATED = "not_designated", _("Not designated")
        INVITED = "invited", _("Invitation sent")
        DESIGNATED = "designated", _("Designated")

    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        on_delete=models.PROTECT,
        related_name="institutions",
        null=True,
        blank=True,
    )
    website = models.URLField(_("website"), blank=True)
    mailbox = models.EmailField(
        _("institutional mailbox"),
        blank=True,
        help_text=_("The institution's own address; the focal-point account is bound to it."),
    )
    description = models.TextField(_("description"), blank=True)
    vetting_status = models.CharField(
        _("vetting status"),
        max_length=16,
        choices=Vetting.choices,
        default=Vetting.NOT_APPLICABLE,
    )
    vetted_at = models.DateTimeField(_("vetted at"), null=True, blank=True)
    designation_status = models.CharField(
        _("designation status"),
        max_length=16,
        choices=Designation.choices,
        default=Designation.NOT_DESIGNATED,
    )
    designated_at = models.DateTimeField(_("designated at"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["country"],
                condition=models.Q(type="cooperation_authority"),
                name="one_cooperation_authority_per_country",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_partner(self) -> bool:
        return self.type in self.PARTNER_TYPES

    @property
    def is_member_state_authority(self) -> bool:
        return self.type == self.Type.COOPERATION_AUTHORITY


class UserManager(BaseUserManager):
    """Users sign in with their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", User.Role.SECRETARIAT)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person or an institutional account, with one role on the platform."""

    class Role(models.TextChoices):
        NONE = "", _("No role")
        FOCAL_POINT = "focal_point", _("Focal point (institutional account)")
        DELEGATE = "delegate", _("Delegate")
        MISSION_LIAISON = "mission_liaison", _("Mission liaison")
        PARTNER = "partner", _("Partner")
        BOARD_MEMBER = "board_member", _("Board member")
        SECRETARIAT = "secretariat", _("Secretariat")

    MFA_ROLES = frozenset({Role.SECRETARIAT, Role.BOARD_MEMBER})

    class NotificationKind(models.TextChoices):
        PARTNER_VETTED = "partner_vetted", _("My organisation was vetted")
        PARTNER_REJECTED = "partner_rejected", _("My organisation was not accepted")
        DELEGATE_JOINED = "delegate_joined", _("A delegate joined my institution")
        FOCAL_POINT_DESIGNATED = "focal_point_designated", _("My country's account was designated")
        LISTING_APPROVED = "listing_approved", _("A listing of mine was published")
        LISTING_RETURNED = "listing_returned", _("A listing of mine was returned with comments")
        LISTING_REJECTED = "listing_rejected", _("A listing of mine was rejected")
        LISTING_ARCHIVED = "listing_archived", _("A listing of mine was archived")
        LISTING_EXPIRED = "listing_expired", _("A listing of mine expired")
        LISTING_REVIEW_DUE = "listing_review_due", _("A listing of mine is due for review")
        REVISION_APPROVED = "revision_approved", _("A change to my listing was approved")
        REVISION_RETURNED = "revision_returned", _("A change to my listing was returned")
        REVISION_REJECTED = "revision_rejected", _("A change to my listing was rejected")
        INTEREST_EXPRESSED = "interest_expressed", _("An institution is interested in my listing")
        CONNECTION_UPDATED = "connection_updated", _("A connection moved forward")

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    email_opt_outs = ArrayField(
        models.CharField(max_length=40, choices=NotificationKind.choices),
        verbose_name=_("e-mail notifications turned off"),
        default=list,
        blank=True,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def requires_mfa(self) -> bool:
        return self.role in self.MFA_ROLES


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An e-mailed link that lets a mailbox set its password and join an institution."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    INVITABLE_ROLES = (
        User.Role.FOCAL_POINT,
        User.Role.DELEGATE,
        User.Role.MISSION_LIAISON,
        User.Role.BOARD_MEMBER,
        User.Role.SECRETARIAT,
    )

    email = models.EmailField(_("e-mail address"))
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.CASCADE,
        related_name="invitations",
        null=True,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=20, choices=User.Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    def get_absolute_url(self) -> str:
        return reverse("accounts:accept_invitation", kwargs={"token": self.token})

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.status == self.Status.PENDING and self.expires_at <= timezone.now()
        )


class Notification(models.Model):
    """One event for one person: shown in the inbox, and e-mailed unless they opted out."""

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent (turned off)")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40, choices=User.NotificationKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail status"),
        max_length=16,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
    )
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "created"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class ApiToken(AbstractAuthToken):
    """A named API token (django-rest-knox stores only its digest): a national system's sync
    job or a researcher's script; shown once when created, revocable on the profile page."""

    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name or self.token_key} ({self.user})"
