"""IATI 2.03 activity XML of published listings, for the national, regional and international
systems that read IATI (the API serves it; the caller chooses the listings).

Each listing becomes one ``iati-activity``:

- ``iati-identifier``: ``settings.IATI_ORGANISATION_ID`` + ``-`` + the listing id.
- ``reporting-org``: that organisation (type 40, multilateral), named in the four official
  languages of the OAS, with ``secondary-reporter="1"``: the Secretariat republishes what the
  institutions publish, so systems that also read their own reports do not count them twice.
- ``title``; ``description`` (type 1, general): the summary, then the description (Markdown as
  written), in one ``narrative`` in the listing's language, also the activity's ``xml:lang``.
- ``participating-org``: the publishing institution, no ``ref`` (institutions have no IATI
  identifier), ``type`` from its kind (Authorities and missions 10 government, foundations 60,
  private sector 70, academia 80, international organisations and OAS units 40). Its role says
  what the listing makes it: an offer's publisher provides the cooperation, role 4
  (implementing); a need's publisher asks for it and answers for the request, role 2
  (accountable). Funding is never claimed: cost sharing is free text.
- ``other-identifier``: the external reference (type A9) owned by the publishing institution.
- ``activity-status`` from the stage: proposed 1 (pipeline/identification), in execution 2
  (implementation), concluded 4 (closed: the good practice is finished and shared, and nothing
  financial is pending). A listing without a stage is still being set up: 1.
- ``activity-date``: the only date a listing knows is its publication. A proposed listing
  reports it as planned start (1: the earliest the cooperation can begin); one in execution or
  concluded as actual start (2), which it reached no later than that. No end date is invented.
- ``contact-info`` (type 1, general enquiries): organisation, contact person and e-mail, as the
  listing page shows them, when a person or an e-mail is given.
- ``recipient-country``: the beneficiary countries (ISO alpha-2, ``Country.iso2``), equal
  percentages adding to 100. A need with no beneficiary named is for its own country. With no
  country, the beneficiary regions become ``recipient-region`` in the OECD DAC vocabulary (1):
  Caribbean 1031, Central America 1032, South America 489, the Americas 498; North America has
  no DAC recipient region (two of its three states are not aid recipients) and is left out.
- ``sector``: the focus areas in the reporting organisation's vocabulary (99, with
  ``vocabulary-uri`` the catalogue, where they are listed), code the slug, names in the four
  languages, equal percentages adding to 100.
- ``tag``: the SDGs, vocabulary 2 (goals), code the goal number.
- ``default-aid-type`` (DAC vocabulary 1) from the type of cooperation where one code says it:
  exchange of experts D01, scholarships E01, technical assistance, capacity building,
  internships and sharing of good practices D02; financing says nothing of the aid type.
  ``collaboration-type`` is left out: it classifies disbursements, and none are reported.
- ``document-link``: the listing's public page (category A12, activity web page).

Queries: one for the listings (with their institution), plus the cached reference data
(``exchange.selectors.reference()``) for countries, focus areas and SDGs, whatever the number
of listings. The document is written one activity at a time (``iter_activities_xml`` streams
it). Text is stripped of the characters XML 1.0 forbids; lxml escapes the rest.

Which listings are exported is the caller's choice: pass the published ones (for example
``Listing.objects.filter(status=Listing.Status.PUBLISHED)``). The schema requires at least one
activity, so an empty selection gives a document IATI validators reject.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from accounts.emails import absolute_url
from accounts.models import Institution
from exchange.models import Listing
from exchange.selectors import SEARCH_FIELDS, Reference, reference

IATI_VERSION = "2.03"
LANGUAGES = ("en", "es", "pt", "fr")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CHUNK_SIZE = 500

# Official names, not interface text: the same in every catalogue of the platform.
REPORTING_ORG_NAMES = {
    "en": "Organization of American States",
    "es": "Organización de los Estados Americanos",
    "pt": "Organização dos Estados Americanos",
    "fr": "Organisation des États Américains",
}
REPORTING_ORG_TYPE = "40"

ORGANISATION_TYPES = {
    Institution.Type.COOPERATION_AUTHORITY: "10",
    Institution.Type.PERMANENT_MISSION: "10",
    Institution.Type.OBSERVER_AGENCY: "10",
    Institution.Type.PRIVATE_SECTOR: "70",
    Institution.Type.FOUNDATION: "60",
    Institution.Type.ACADEMIA: "80",
    Institution.Type.INTERNATIONAL_ORGANISATION: "40",
    Institution.Type.OAS_UNIT: "40",
}
OTHER_ORGANISATION_TYPE = "90"
ROLE_ACCOUNTABLE = "2"
ROLE_IMPLEMENTING = "4"

STATUS_PIPELINE = "1"
ACTIVITY_STATUS = {
    Listing.Stage.PROPOSED: STATUS_PIPELINE,
    Listing.Stage.IN_EXECUTION: "2",
    Listing.Stage.CONCLUDED: "4",
}
PLANNED_START, ACTUAL_START = "1", "2"

DAC_REGIONS = {
    Listing.Region.CARIBBEAN: "1031",
    Listing.Region.CENTRAL_AMERICA: "1032",
    Listing.Region.SOUTH_AMERICA: "489",
    Listing.Region.AMERICAS: "498",
}

AID_TYPES = {
    Listing.CooperationType.TECHNICAL_ASSISTANCE: "D02",
    Listing.CooperationType.CAPACITY_BUILDING: "D02",
    Listing.CooperationType.EXPERT_EXCHANGE: "D01",
    Listing.CooperationType.INTERNSHIP: "D02",
    Listing.CooperationType.SCHOLARSHIP: "E01",
    Listing.CooperationType.KNOWLEDGE_SHARING: "D02",
}

SECTOR_VOCABULARY = "99"
SDG_VOCABULARY = "2"
DAC_VOCABULARY = "1"
OTHER_ACTIVITY_IDENTIFIER = "A9"
GENERAL_ENQUIRIES = "1"
GENERAL_DESCRIPTION = "1"
ACTIVITY_WEB_PAGE = "A12"

# Everything outside XML 1.0's Char production: most C0 controls, surrogates, U+FFFE/FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def activities_xml(listings: QuerySet[Listing]) -> bytes:
    """The UTF-8 ``<iati-activities version="2.03">`` document of ``listings``."""
    return b"".join(iter_activities_xml(listings))


def iter_activities_xml(listings: QuerySet[Listing]) -> Iterator[bytes]:
    """The same document in pieces, one activity at a time (for a streaming response)."""
    ref = reference()
    context = _Context(
        ref=ref,
        organisation_id=settings.IATI_ORGANISATION_ID,
        sector_uri=absolute_url(reverse("exchange:catalogue")),
    )
    rows = (
        listings.select_related("institution")
        .defer(*SEARCH_FIELDS, "moderation_comment", "institution__description")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="utf-8") as document:
        document.write_declaration()
        root = {"version": IATI_VERSION, "generated-datetime": _datetime(timezone.now())}
        with document.element("iati-activities", root):
            for listing in rows:
                document.write(_activity(listing, context))
                document.flush()
                yield _drain(buffer)
    yield _drain(buffer)


@dataclass(frozen=True)
class _Context:
    ref: Reference
    organisation_id: str
    sector_uri: str


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _activity(listing: Listing, context: _Context) -> etree._Element:
    language = listing.language
    activity = etree.Element(
        "iati-activity",
        {"last-updated-datetime": _datetime(listing.updated), XML_LANG: language},
    )
    _sub(activity, "iati-identifier").text = f"{context.organisation_id}-{listing.pk}"

    reporting = _sub(
        activity,
        "reporting-org",
        ref=context.organisation_id,
        type=REPORTING_ORG_TYPE,
        **{"secondary-reporter": "1"},
    )
    for lang, name in REPORTING_ORG_NAMES.items():
        _narrative(reporting, name, lang)

    _narrative(_sub(activity, "title"), listing.title, language)
    # One narrative per language: the summary leads the description, as on the listing page.
    text = "\n\n".join(
        dict.fromkeys(t.strip() for t in (listing.summary, listing.description) if t.strip())
    )
    _narrative(_sub(activity, "description", type=GENERAL_DESCRIPTION), text, language)

    institution = listing.institution
    role = ROLE_IMPLEMENTING if listing.kind == Listing.Kind.OFFER else ROLE_ACCOUNTABLE
    org_type = ORGANISATION_TYPES.get(institution.type, OTHER_ORGANISATION_TYPE)
    _narrative(_sub(activity, "participating-org", role=role, type=org_type), institution.name)

    if listing.external_ref:
        other = _sub(
            activity,
            "other-identifier",
            ref=_clean(listing.external_ref),
            type=OTHER_ACTIVITY_IDENTIFIER,
        )
        _narrative(_sub(other, "owner-org"), institution.name)

    _sub(activity, "activity-status", code=ACTIVITY_STATUS.get(listing.stage, STATUS_PIPELINE))
    started = listing.stage in (Listing.Stage.IN_EXECUTION, Listing.Stage.CONCLUDED)
    _sub(
        activity,
        "activity-date",
        type=ACTUAL_START if started else PLANNED_START,
        **{"iso-date": timezone.localdate(listing.published_at or listing.created).isoformat()},
    )

    if listing.contact_name or listing.contact_email:
        contact = _sub(activity, "contact-info", type=GENERAL_ENQUIRIES)
        _narrative(_sub(contact, "organisation"), institution.name)
        if listing.contact_name:
            _narrative(_sub(contact, "person-name"), listing.contact_name)
        if listing.contact_email:
            _sub(contact, "email").text = _clean(listing.contact_email)

    _recipients(activity, listing, context.ref)

    areas = sorted(
        (
            context.ref.focus_areas[pk]
            for pk in listing.focus_area_ids
            if pk in context.ref.focus_areas
        ),
        key=lambda area: (area.position, area.slug),
    )
    for area, percentage in zip(areas, _shares(len(areas)), strict=True):
        sector = _sub(
            activity,
            "sector",
            vocabulary=SECTOR_VOCABULARY,
            code=area.slug,
            percentage=percentage,
            **{"vocabulary-uri": context.sector_uri},
        )
        for lang in LANGUAGES:
            _narrative(sector, getattr(area, f"name_{lang}"), lang)

    for number in sorted(set(listing.sdg_numbers)):
        if number in context.ref.sdgs:
            _sub(activity, "tag", vocabulary=SDG_VOCABULARY, code=str(number))

    if aid_type := AID_TYPES.get(listing.cooperation_type):
        _sub(activity, "default-aid-type", code=aid_type, vocabulary=DAC_VOCABULARY)

    link = _sub(
        activity,
        "document-link",
        url=absolute_url(listing.get_absolute_url()),
        format="text/html",
    )
    _narrative(_sub(link, "title"), listing.title, language)
    _sub(link, "category", code=ACTIVITY_WEB_PAGE)
    _sub(link, "language", code=language)
    return activity


def _recipients(activity: etree._Element, listing: Listing, ref: Reference) -> None:
    countries = sorted(
        {ref.countries[pk].iso2 for pk in listing.beneficiary_ids if pk in ref.countries}
    )
    if not countries and not listing.beneficiary_regions and listing.kind == Listing.Kind.NEED:
        own = ref.countries.get(listing.country_id)
        countries = [own.iso2] if own else []
    for code, percentage in zip(countries, _shares(len(countries)), strict=True):
        _sub(activity, "recipient-country", code=code, percentage=percentage)
    if countries:
        return
    regions = sorted({DAC_REGIONS[r] for r in listing.beneficiary_regions if r in DAC_REGIONS})
    for code, percentage in zip(regions, _shares(len(regions)), strict=True):
        _sub(
            activity,
            "recipient-region",
            code=code,
            vocabulary=DAC_VOCABULARY,
            percentage=percentage,
        )


def _shares(count: int) -> list[str]:
    """``count`` percentages with two decimals that add up to exactly 100."""
    if not count:
        return []
    base, extra = divmod(10000, count)
    cents = [base + 1 if index < extra else base for index in range(count)]
    return [f"{(Decimal(c) / 100).normalize():f}" for c in cents]


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, tag, attributes)


def _narrative(parent: etree._Element, text: str, lang: str | None = None) -> etree._Element:
    narrative = _sub(parent, "narrative", **({XML_LANG: lang} if lang else {}))
    narrative.text = _clean(text)
    return narrative


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _datetime(value: datetime) -> str:
    return value.isoformat(timespec="seconds")
