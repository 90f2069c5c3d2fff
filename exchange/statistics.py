"""The four tables of the CooperaNet status report, computed from live data.

A listing counts once by type and by country, and under each of its focus areas and SDGs,
so those two tables add up to more than the number of listings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from exchange.models import Listing
from exchange.selectors import array_value_counts, catalogue_cached, reference


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int
    percentage: float


@dataclass(frozen=True)
class Table:
    name: str
    rows: list[Row]
    total: int

    @property
    def largest(self) -> int:
        return max((row.count for row in self.rows), default=0)


@dataclass(frozen=True)
class Statistics:
    listings: int
    by_type: Table
    by_country: Table
    by_focus_area: Table
    by_sdg: Table

    def tables(self) -> list[Table]:
        return [self.by_type, self.by_country, self.by_focus_area, self.by_sdg]


def _published(since: datetime.date | None, until: datetime.date | None) -> QuerySet[Listing]:
    listings = Listing.objects.filter(status=Listing.Status.PUBLISHED)
    if since:
        listings = listings.filter(published_at__date__gte=since)
    if until:
        listings = listings.filter(published_at__date__lte=until)
    return listings.order_by()


def _rows(pairs: list[tuple[str, str, int]], listings: int) -> list[Row]:
    return [
        Row(
            key=key,
            label=label,
            count=count,
            percentage=round(100 * count / listings, 1) if listings else 0.0,
        )
        for key, label, count in pairs
    ]


def _array_counts(listings: QuerySet[Listing], column: str) -> dict[int, int]:
    return array_value_counts(listings, column)


def _counts(since: datetime.date | None, until: datetime.date | None) -> dict:
    """The raw counts, four queries, cached until the catalogue changes."""

    def compute() -> dict:
        listings = _published(since, until)
        return {
            "kinds": listings.aggregate(
                offer_member_state=Count(
                    "pk", filter=Q(kind="offer", publisher_type="member_state")
                ),
                offer_partner=Count("pk", filter=Q(kind="offer", publisher_type="partner")),
                need_member_state=Count("pk", filter=Q(kind="need", publisher_type="member_state")),
                need_partner=Count("pk", filter=Q(kind="need", publisher_type="partner")),
            ),
            "countries": dict(
                listings.values_list("country_id")
                .annotate(n=Count("pk"))
                .values_list("country_id", "n")
            ),
            "areas": _array_counts(listings, "focus_area_ids"),
            "goals": _array_counts(listings, "sdg_numbers"),
        }

    return catalogue_cached(f"statistics:{since}:{until}", compute)


def statistics(
    *, since: datetime.date | None = None, until: datetime.date | None = None
) -> Statistics:
    """The four tables, labelled in the active language."""
    counts = _counts(since, until)
    ref = reference()
    kinds = counts["kinds"]
    total = sum(kinds.values())
    type_labels = {
        "offer_member_state": _("Offer - Member State"),
        "offer_partner": _("Offer - partner"),
        "need_member_state": _("Need - Member State"),
        "need_partner": _("Need - partner"),
    }
    by_type = [(key, type_labels[key], kinds[key]) for key in type_labels]
    by_country = sorted(
        (
            (ref.countries[pk].iso3, ref.countries[pk].name, n)
            for pk, n in counts["countries"].items()
            if pk in ref.countries
        ),
        key=lambda row: row[1],
    )
    areas = counts["areas"]
    by_area = [
        (area.slug, area.name, areas.get(pk, 0))
        for pk, area in sorted(ref.focus_areas.items(), key=lambda item: item[1].position)
    ]
    goals = counts["goals"]
    by_sdg = [
        (str(number), str(goal), goals.get(number, 0)) for number, goal in sorted(ref.sdgs.items())
    ]
    return Statistics(
        listings=total,
        by_type=Table("type", _rows(by_type, total), total),
        by_country=Table("country", _rows(by_country, total), sum(r[2] for r in by_country)),
        by_focus_area=Table("focus-area", _rows(by_area, total), sum(r[2] for r in by_area)),
        by_sdg=Table("sdg", _rows(by_sdg, total), sum(r[2] for r in by_sdg)),
    )
