"""The demo catalogue: 238 published listings in the shape of the 2022 CooperaNet report.

The counts by type, by country, by focus area (the report's rows, which add up to 280) and
by SDG are exactly the report's (exchange/data/cooperanet_2022_snapshot.json); the texts
come from exchange/data/demo_listings.json, written for the purpose. Deterministic: the
same database gets the same catalogue. Idempotent: listings are matched on their external
reference ``DEMO-<n>``.
"""

from __future__ import annotations

import datetime
import json
import random
from collections import Counter
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.models import Country, Institution, User
from exchange.models import SDG, Connection, FocusArea, Listing

DATA = Path(__file__).resolve().parent / "data"
PARTNER_COUNTRY = "PAN"  # The report's one partner offer is counted under Panama.

# SDGs that suit each focus area, tried first when goals are handed out.
AREA_GOALS = {
    "education-human-development": [4, 10, 5],
    "economic-development-competitiveness": [8, 9, 17],
    "smes": [8, 9],
    "research-development": [9, 17],
    "innovation-technology": [9, 16, 17],
    "sustainable-tourism": [8, 12, 14],
    "sustainable-development-environment": [13, 15, 6, 14, 11, 2, 12, 7],
    "culture": [11, 4],
    "social-development": [1, 3, 10, 5, 2],
    "productive-employment": [8],
    "other": [16, 17, 11, 2, 9, 12],
}
SUFFIXES = {
    "es": ["", " (segunda fase)", " - programa regional", " - experiencia municipal"],
    "en": ["", " (phase II)", " - regional programme", " - local experience"],
}


def snapshot() -> dict:
    return json.loads((DATA / "cooperanet_2022_snapshot.json").read_text(encoding="utf-8"))


def _texts() -> dict:
    return json.loads((DATA / "demo_listings.json").read_text(encoding="utf-8"))


def _plan(report: dict) -> list[dict]:
    """One entry per listing: kind, publisher type and country, as the report counts them."""
    needs = {"BHS", "BRB", "CRI", "SLV", "HND", "KNA", "VCT", "URY"}
    plan = []
    for iso3, count, _printed in report["by_country"]:
        for index in range(count):
            if iso3 in needs and index == 0:
                plan.append({"kind": "need", "publisher": "member_state", "country": iso3})
            elif iso3 == PARTNER_COUNTRY:
                plan.append({"kind": "offer", "publisher": "partner", "country": iso3})
            else:
                plan.append({"kind": "offer", "publisher": "member_state", "country": iso3})
    return plan


def _primary_areas(report: dict, total: int) -> list[str]:
    """A primary focus area per listing: the report's rows scaled to the number of listings."""
    targets = {slug: count for slug, count, _printed in report["by_focus_area"]}
    grand = sum(targets.values())
    shares = {slug: count * total / grand for slug, count in targets.items()}
    primary = {slug: int(share) for slug, share in shares.items()}
    leftovers = sorted(shares, key=lambda slug: shares[slug] - primary[slug], reverse=True)
    for slug in leftovers[: total - sum(primary.values())]:
        primary[slug] += 1
    return [slug for slug, count in primary.items() for _ in range(count)]


def build(report: dict) -> list[dict]:
    """The full plan: per listing its kind, publisher, country, focus areas and SDGs."""
    rng = random.Random(2022)
    plan = _plan(report)
    primaries = _primary_areas(report, len(plan))
    rng.shuffle(primaries)
    # Needs are about the environment and social development in the report's FCD programmes.
    for entry, area in zip(plan, primaries, strict=True):
        entry["areas"] = [area]
    targets = {slug: count for slug, count, _printed in report["by_focus_area"]}
    given = Counter(primaries)
    cursor = 0
    for slug, target in targets.items():
        for _ in range(target - given[slug]):
            while slug in plan[cursor % len(plan)]["areas"]:
                cursor += 1
            plan[cursor % len(plan)]["areas"].append(slug)
            cursor += 1
    for position, entry in enumerate(plan):
        entry["sdgs"] = []
        entry["position"] = position
    goals = sorted(report["by_sdg"], key=lambda row: -row[1])
    for number, count, _printed in goals:
        suited = [e for e in plan if number in AREA_GOALS.get(e["areas"][0], [])]
        others = [e for e in plan if e not in suited]
        for _ in range(count):
            pool = [e for e in suited if number not in e["sdgs"]] or [
                e for e in others if number not in e["sdgs"]
            ]
            choice = min(pool, key=lambda e: (len(e["sdgs"]), e["position"]))
            choice["sdgs"].append(number)
    return plan


@transaction.atomic
def seed_listings(*, secretariat: User) -> int:
    """Create the demo catalogue (and a few listings in moderation); return how many new."""
    report = snapshot()
    texts = _texts()
    if Listing.objects.filter(external_ref__startswith="DEMO-").exists():
        return 0
    countries = {c.iso3: c for c in Country.objects.all()}
    areas = {a.slug: a for a in FocusArea.objects.all()}
    goals = {g.number: g for g in SDG.objects.all()}
    authorities = {
        i.country.iso3: i
        for i in Institution.objects.filter(
            type=Institution.Type.COOPERATION_AUTHORITY
        ).select_related("country")
    }
    partner = Institution.objects.get(name="Formato Educativo")
    authors = {
        institution_id: user
        for institution_id, user in (
            (u.institution_id, u) for u in User.objects.filter(role=User.Role.FOCAL_POINT)
        )
    }
    partner_author = User.objects.filter(institution=partner).first() or secretariat
    pools = {
        kind: {slug: [t for t in texts[f"{kind}s"] if t["focus_area"] == slug] for slug in areas}
        for kind in ("offer", "need")
    }
    used: Counter = Counter()
    rng = random.Random(238)
    today = timezone.localdate()
    created = 0
    for index, entry in enumerate(build(report), start=1):
        kind, area = entry["kind"], entry["areas"][0]
        pool = area if pools[kind][area] else "other"
        candidates = pools[kind][pool]
        text = candidates[used[(kind, pool)] % len(candidates)]
        round_ = used[(kind, pool)] // len(candidates)
        used[(kind, pool)] += 1
        institution = partner if entry["publisher"] == "partner" else authorities[entry["country"]]
        published = timezone.make_aware(
            datetime.datetime(2020, 3, 1) + datetime.timedelta(days=rng.randint(0, 800))
        )
        listing_areas = [areas[s] for s in entry["areas"]]
        listing_goals = [goals[n] for n in entry["sdgs"]]
        listing = Listing(
            kind=kind,
            status=Listing.Status.PUBLISHED,
            title=text["title"] + SUFFIXES[text["language"]][round_ % 4],
            summary=text["summary"],
            description=text["description"],
            language=text["language"],
            institution=institution,
            country=countries[entry["country"]],
            publisher_type=entry["publisher"],
            created_by=partner_author
            if entry["publisher"] == "partner"
            else authors.get(institution.pk, secretariat),
            modality=rng.choice(["south_south", "south_south", "triangular", "bilateral"]),
            cooperation_type=rng.choice(Listing.CooperationType.values),
            stage=rng.choice(Listing.Stage.values) if kind == "offer" else "proposed",
            duration_months=rng.choice([6, 12, 18, 24]),
            contact_email=institution.mailbox or "cooperacion@example.org",
            external_ref=f"DEMO-{index:03d}",
            published_at=published,
            submitted_at=published,
            review_by=today + datetime.timedelta(days=rng.randint(60, 365)),
        )
        listing.set_related_arrays(focus_areas=listing_areas, sdgs=listing_goals)
        listing.save()
        listing.focus_areas.set(listing_areas)
        listing.sdgs.set(listing_goals)
        created += 1
    created += _moderation_examples(authorities, authors, areas)
    _connections(authorities, authors)
    return created


def _moderation_examples(authorities, authors, areas) -> int:
    """Two submitted listings, so that the Secretariat's queue is not empty in the demo."""
    examples = [
        ("PER", "Fortalecimiento de capacidades en catastro urbano multifinalitario",
         "Asistencia técnica para modernizar el catastro de ciudades intermedias."),
        ("ARG", "Intercambio de experiencias en compras públicas sostenibles",
         "Talleres virtuales sobre criterios ambientales en las compras del Estado."),
    ]  # fmt: skip
    for number, (iso3, title, summary) in enumerate(examples, start=1):
        authority = authorities[iso3]
        listing = Listing(
            kind="offer",
            status=Listing.Status.SUBMITTED,
            title=title,
            summary=summary,
            description=summary,
            language="es",
            institution=authority,
            country=authority.country,
            publisher_type="member_state",
            created_by=authors[authority.pk],
            modality="south_south",
            cooperation_type="capacity_building",
            stage="proposed",
            contact_email=authority.mailbox,
            external_ref=f"DEMO-Q{number}",
            submitted_at=timezone.now(),
        )
        listing.set_related_arrays(focus_areas=[areas["other"]])
        listing.save()
        listing.focus_areas.set([areas["other"]])
    return len(examples)


def _connections(authorities, authors) -> None:
    """Uruguay is interested in a Peruvian offer; Chile is talking with Argentina."""
    for publisher, interested, status in (("PER", "URY", "interested"), ("ARG", "CHL", "in_talks")):
        listing = (
            Listing.objects.filter(
                institution=authorities[publisher], status="published", kind="offer"
            )
            .order_by("external_ref")
            .first()
        )
        Connection.objects.get_or_create(
            listing=listing,
            institution=authorities[interested],
            defaults={
                "created_by": authors[authorities[interested].pk],
                "message": "Nos interesa conocer esta experiencia para adaptarla a nuestro país.",
                "status": status,
            },
        )
