"""One factory per model. Reference rows (countries, focus areas, SDGs) come from the data
migrations, so factories look them up rather than invent them."""

from __future__ import annotations

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Country, Institution, Invitation, Notification, User

PASSWORD = "a-long-test-password-2026"


def country(iso3: str) -> Country:
    return Country.objects.get(iso3=iso3)


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"Institution {n}")
    type = Institution.Type.COOPERATION_AUTHORITY
    country = factory.LazyFunction(lambda: country("PER"))


class AuthorityFactory(InstitutionFactory):
    class Meta:
        model = Institution
        django_get_or_create = ("type", "country")

    name = factory.LazyAttribute(lambda o: f"Cooperation Authority of {o.country.name_en}")


class PartnerInstitutionFactory(InstitutionFactory):
    type = Institution.Type.FOUNDATION
    country = factory.LazyFunction(lambda: country("MEX"))
    vetting_status = Institution.Vetting.VETTED


class MissionFactory(InstitutionFactory):
    type = Institution.Type.PERMANENT_MISSION
    name = factory.LazyAttribute(lambda o: f"Permanent Mission of {o.country.name_en}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = User.Role.DELEGATE
    institution = factory.SubFactory(AuthorityFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = User.NotificationKind.PARTNER_VETTED
    params = factory.LazyFunction(lambda: {"organisation": "Fundación Demo"})
    url = "/dashboard/"


# --- Exchange --------------------------------------------------------------------------------


def focus_area(slug: str):
    from exchange.models import FocusArea

    return FocusArea.objects.get(slug=slug)


def sdg(number: int):
    from exchange.models import SDG

    return SDG.objects.get(number=number)


class ListingFactory(factory.django.DjangoModelFactory):
    """A listing in any status. ``focus_areas`` (slugs), ``sdgs`` (numbers) and
    ``beneficiaries`` (ISO alpha-3) are set after creation, arrays included."""

    class Meta:
        model = "exchange.Listing"
        skip_postgeneration_save = True

    kind = "offer"
    status = "published"
    title = factory.Sequence(lambda n: f"Gestión del riesgo de desastres, experiencia {n}")
    summary = "Asistencia técnica en sistemas de alerta temprana para municipios."
    description = "La **Autoridad** ofrece pasantías y misiones de expertos."
    language = "es"
    institution = factory.SubFactory(AuthorityFactory)
    country = factory.LazyAttribute(lambda o: o.institution.country)
    publisher_type = factory.LazyAttribute(
        lambda o: "partner" if o.institution.is_partner else "member_state"
    )
    created_by = factory.SubFactory(UserFactory)
    modality = "south_south"
    cooperation_type = "technical_assistance"
    stage = "in_execution"
    contact_email = "cooperacion@example.org"
    published_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == "published" else None
    )
    review_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=300))

    @factory.post_generation
    def relations(obj, create, extracted, **kwargs):
        if not create:
            return
        related = {
            "focus_areas": [focus_area(slug) for slug in kwargs.get("focus_areas", ["other"])],
            "sdgs": [sdg(number) for number in kwargs.get("sdgs", [17])],
            "beneficiary_countries": [country(iso3) for iso3 in kwargs.get("beneficiaries", [])],
        }
        for name, rows in related.items():
            getattr(obj, name).set(rows)
        obj.set_related_arrays(**related)
        obj.save(update_fields=["focus_area_ids", "sdg_numbers", "beneficiary_ids"])


class DocumentFactory(factory.django.DjangoModelFactory):
    """A listing's file as a row (no stored content: pages only list and link it)."""

    class Meta:
        model = "exchange.ListingDocument"

    listing = factory.SubFactory(ListingFactory)
    token = factory.Sequence(lambda n: f"t{n}")
    name = factory.Sequence(lambda n: f"documento-{n}.pdf")
    file = factory.LazyAttribute(lambda o: o.name)
    content_type = "application/pdf"
    size = 1024
    uploaded_by = factory.SubFactory(UserFactory)
