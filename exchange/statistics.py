"""The four tables of the CooperaNet status report, computed from live data.

A listing counts once by type and by country, and under each of its focus areas and SDGs,
so those two tables add up to more than the number of listings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from exchange import bitmaps
from exchange.bitmaps import Bitmaps
from exchange.caching import catalogue_cached
from exchange.models import Listing
from exchange.selectors import reference


class Row(NamedTuple):
    """One line of a table. A named tuple: 66 of them are made for each page, and a frozen
    dataclass takes several times longer to make."""

    key: str
    label: str
    count: int
    percentage: float
    # The length of its bar in the chart: percent of the table's largest count.
    bar: int
    # The percentage as the page shows it, one decimal in the active language's notation:
    # formatted here once, where the template's floatformat took half the page's rendering.
    shown_percentage: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    rows: list[Row]
    total: int
    # Its heading, in the active language.
    title: str = ""


@dataclass(frozen=True)
class Statistics:
    listings: int
    by_type: Table
    by_country: Table
    by_focus_area: Table
    by_sdg: Table

    def tables(self) -> list[Table]:
        return [self.by_type, self.by_country, self.by_focus_area, self.by_sdg]


def _rows(pairs: list[tuple[str, str, int]], listings: int) -> list[Row]:
    largest = max((count for _key, _label, count in pairs), default=0)
    separator = formats.get_format("DECIMAL_SEPARATOR")
    rows = []
    for key, label, count in pairs:
        percentage = round(100 * count / listings, 1) if listings else 0.0
        rows.append(
            Row(
                key=key,
                label=label,
                count=count,
                percentage=percentage,
                bar=round(100 * count / largest) if largest else 0,
                shown_percentage=f"{percentage:.1f}".replace(".", separator),
            )
        )
    return rows


def _month(day: datetime.date) -> str:
    return f"{day.year:04}{day.month:02}"


# Dates outside these are read as them: no listing was published before or after, and the
# month arithmetic below would overflow at the ends of the calendar.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(9998, 12, 30)
DAY = datetime.timedelta(days=1)


def _date_range(since: datetime.date | None, until: datetime.date | None) -> list[Bitmaps]:
    """The published listings of a date range (UTC days) as bitmaps: the whole months in it
    from their month terms, the days of a partial first or last month read from the
    listings (an index range of a few days). No range: no selection at all."""
    if not since and not until:
        return []
    since = since and min(max(since, FIRST_DAY), LAST_DAY)
    until = until and min(max(until, FIRST_DAY), LAST_DAY)
    if since and until and since > until:
        return [bitmaps.of_ids("SELECT NULL::int WHERE false", [])]
    # The first day of the first whole month, and the last day of the last one (None: open).
    start = since if not since or since.day == 1 else (since.replace(day=28) + 4 * DAY)
    start = start and start.replace(day=1)
    end = until if not until or (until + DAY).day == 1 else until.replace(day=1) - DAY
    if start and end and start > end:
        selections, days = [], [(since, until)]
    else:
        whole = bitmaps.of_terms(
            "month", first=_month(start) if start else "", last=_month(end) if end else "~"
        )
        selections, days = [whole], []
        if since and since < start:
            days.append((since, start - DAY))
        if until and end < until:
            days.append((end + DAY, until))
    if days:
        moments = Q()
        for first, last in days:
            moments |= Q(
                published_at__gte=datetime.datetime.combine(first, datetime.time(), datetime.UTC),
                published_at__lt=datetime.datetime.combine(
                    last + DAY, datetime.time(), datetime.UTC
                ),
            )
        listings = Listing.objects.filter(moments, status=Listing.Status.PUBLISHED)
        selections.append(bitmaps.of_ids(*listings.values("id").order_by().query.sql_with_params()))
    return selections


def _counts(since: datetime.date | None, until: datetime.date | None) -> dict:
    """The raw counts, one query on the catalogue's bitmaps (exchange.bitmaps), cached until
    the catalogue changes."""

    def compute() -> dict:
        counts = bitmaps.count(
            ["type", "country", "focus_area", "sdg"],
            selections={"month": _date_range(since, until)},
        )
        return {
            "kinds": {key: counts["type"].get(key, 0) for key in TYPES},
            "countries": {int(pk): n for pk, n in counts["country"].items()},
            "areas": {int(pk): n for pk, n in counts["focus_area"].items()},
            "goals": {int(number): n for number, n in counts["sdg"].items()},
        }

    return catalogue_cached(cache_key(since, until), compute)


def cache_key(since: datetime.date | None, until: datetime.date | None) -> str:
    """The key of the counts of a date range in ``caching.catalogue_cached``."""
    return f"statistics:{since}:{until}"


TYPES = ("offer_member_state", "offer_partner", "need_member_state", "need_partner")


def statistics(
    *, since: datetime.date | None = None, until: datetime.date | None = None
) -> Statistics:
    """The four tables, labelled in the active language."""
    counts = _counts(since, until)
    ref = reference()
    names = ref.names()
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
            (ref.countries[pk].iso3, names.countries[pk], n)
            for pk, n in counts["countries"].items()
            if pk in ref.countries
        ),
        key=lambda row: row[1],
    )
    areas = counts["areas"]
    by_area = [
        (area.slug, names.focus_areas[pk], areas.get(pk, 0))
        for pk, area in sorted(ref.focus_areas.items(), key=lambda item: item[1].position)
    ]
    goals = counts["goals"]
    by_sdg = [
        (str(number), names.sdgs[number], goals.get(number, 0)) for number in sorted(ref.sdgs)
    ]
    return Statistics(
        listings=total,
        by_type=Table("type", _rows(by_type, total), total, _("Listings by type")),
        by_country=Table(
            "country",
            _rows(by_country, total),
            sum(r[2] for r in by_country),
            _("Listings by country"),
        ),
        by_focus_area=Table(
            "focus-area",
            _rows(by_area, total),
            sum(r[2] for r in by_area),
            _("Listings by focus area"),
        ),
        by_sdg=Table(
            "sdg",
            _rows(by_sdg, total),
            sum(r[2] for r in by_sdg),
            _("Listings by Sustainable Development Goal"),
        ),
    )
