"""The demo data of `manage.py seed_demo`: institutions and sign-ins to try every role.

Idempotent: a second run finds what the first created and changes nothing, except the
passwords when a password is given explicitly.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone

from accounts.models import Country, Institution, User

DESIGNATED = ("PER", "ARG", "URY", "CHL", "CRI")

AUTHORITY_NAMES = {
    "ARG": "Dirección General de Cooperación Internacional (Argentina)",
    "BRA": "Agência Brasileira de Cooperação (ABC)",
    "CHL": "Agencia Chilena de Cooperación Internacional para el Desarrollo (AGCID)",
    "COL": "Agencia Presidencial de Cooperación Internacional de Colombia (APC-Colombia)",
    "CRI": "Ministerio de Planificación Nacional y Política Económica (MIDEPLAN)",
    "MEX": "Agencia Mexicana de Cooperación Internacional para el Desarrollo (AMEXCID)",
    "PER": "Agencia Peruana de Cooperación Internacional (APCI)",
    "URY": "Agencia Uruguaya de Cooperación Internacional (AUCI)",
}

PARTNER_NAME = "Formato Educativo"


class DemoError(ValueError):
    pass


@dataclass
class DemoResult:
    created: list[str] = field(default_factory=list)
    passwords_set: bool = False
    totp_created: bool = False


def check_totp_secret(secret: str) -> str:
    secret = secret.strip().replace(" ", "").upper()
    try:
        if len(base64.b32decode(secret, casefold=True)) < 10:
            raise DemoError("The TOTP secret must encode at least 10 bytes (16 base32 characters).")
    except (binascii.Error, ValueError) as error:
        raise DemoError(f"The TOTP secret is not valid base32: {error}") from None
    return secret


def _account(
    result: DemoResult,
    *,
    email: str,
    password: str | None,
    role: str,
    institution: Institution | None = None,
    full_name: str = "",
    is_staff: bool = False,
) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "role": role,
            "institution": institution,
            "full_name": full_name,
            "is_staff": is_staff,
        },
    )
    if created:
        result.created.append(email)
    if password is not None and (created or result.passwords_set):
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def seed(*, password: str | None, totp_secret: str, force_password: bool) -> DemoResult:
    """Create the demo institutions and accounts.

    ``password`` is set on the accounts this run creates, and on all demo accounts when
    ``force_password`` (a password given explicitly) is true.
    """
    result = DemoResult(passwords_set=force_password)
    now = timezone.now()
    countries = {country.iso3: country for country in Country.objects.filter(participates=True)}
    if len(countries) != 34:
        raise DemoError("The reference data is missing: run `manage.py migrate` first.")

    for iso3, country in countries.items():
        authority, _ = Institution.objects.get_or_create(
            type=Institution.Type.COOPERATION_AUTHORITY,
            country=country,
            defaults={
                "name": AUTHORITY_NAMES.get(iso3, f"Cooperation Authority of {country.name_en}")
            },
        )
        if iso3 in DESIGNATED:
            mailbox = f"focal-{iso3.lower()}@example.org"
            if authority.designation_status != Institution.Designation.DESIGNATED:
                authority.mailbox = mailbox
                authority.designation_status = Institution.Designation.DESIGNATED
                authority.designated_at = now
                authority.save(update_fields=["mailbox", "designation_status", "designated_at"])
            _account(
                result,
                email=mailbox,
                password=password,
                role=User.Role.FOCAL_POINT,
                institution=authority,
            )

    partner, _ = Institution.objects.get_or_create(
        name=PARTNER_NAME,
        defaults={
            "type": Institution.Type.PRIVATE_SECTOR,
            # The 2022 report counts its one partner offer under Panama.
            "country": countries["PAN"],
            "website": "https://formatoeducativo.example.org",
            "vetting_status": Institution.Vetting.VETTED,
            "vetted_at": now,
        },
    )
    _account(
        result,
        email="partner@example.org",
        password=password,
        role=User.Role.PARTNER,
        institution=partner,
        full_name="Demo Partner",
    )
    for email, role, name in (
        ("board@example.org", User.Role.BOARD_MEMBER, "Demo Board Member"),
        ("secretariat@example.org", User.Role.SECRETARIAT, "Demo Secretariat"),
    ):
        user = _account(
            result, email=email, password=password, role=role, full_name=name, is_staff=True
        )
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, totp_secret)
            result.totp_created = True
    return result
