"""The statistics page from live data, and the demo catalogue in the 2022 report's shape."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from exchange import caching
from exchange.demo import snapshot
from exchange.models import Listing
from exchange.statistics import statistics
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("exchange:statistics")


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.setenv("DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    call_command("seed_demo", "--password", "demo-password-2026", stdout=io.StringIO())


def test_demo_reproduces_the_2022_report(client, demo):
    report = snapshot()
    stats = client.get(URL).context["stats"]
    assert stats.listings == report["listings_total"] == 238
    by_type = {row.key: row.count for row in stats.by_type.rows}
    assert by_type == {
        "offer_member_state": 229,
        "offer_partner": 1,
        "need_member_state": 8,
        "need_partner": 0,
    }
    assert {row.key: row.count for row in stats.by_country.rows} == {
        iso3: count for iso3, count, _ in report["by_country"]
    }
    assert {row.key: row.count for row in stats.by_focus_area.rows} == {
        slug: count for slug, count, _ in report["by_focus_area"]
    }
    assert stats.by_focus_area.total == 280
    assert {int(row.key): row.count for row in stats.by_sdg.rows} == {
        number: count for number, count, _ in report["by_sdg"]
    }
    assert stats.by_sdg.total == report["by_sdg_total"] == 427
    peru = next(row for row in stats.by_country.rows if row.key == "PER")
    assert peru.percentage == 52.1
    # The page writes the percentage in each language's notation.
    row = '<th scope="row">{}</th><td>124</td><td>{}</td>'
    assert row.format("Peru", "52.1") in client.get(URL).content.decode()
    for language, name in (("es", "Perú"), ("pt", "Peru"), ("fr", "Pérou")):
        page = client.get(URL, headers={"accept-language": language}).content.decode()
        assert row.format(name, "52,1") in page, language


def test_demo_is_idempotent_and_every_listing_is_complete(demo):
    call_command("seed_demo", stdout=io.StringIO())
    published = Listing.objects.filter(status="published")
    assert published.count() == 238
    assert Listing.objects.filter(status="submitted").count() == 2
    assert published.values("title").distinct().count() == 238
    assert not published.filter(focus_area_ids=[]).exists()
    assert published.filter(language="en").exists()
    assert published.filter(language="es").exists()


def test_date_range_and_csv(client, demo):
    listings = Listing.objects.filter(status="published")
    first = listings.order_by("published_at").first().published_at.date()
    response = client.get(URL, {"since": first.isoformat(), "until": first.isoformat()})
    expected = listings.filter(published_at__date=first).count()
    assert response.context["stats"].listings == expected
    csv_response = client.get(reverse("exchange:statistics_csv", args=["country"]))
    assert csv_response["Content-Disposition"] == 'attachment; filename="cooperanet-country.csv"'
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert rows[0] == ["Code", "Label", "Listings", "Percentage of listings"]
    assert ["PER", "Peru", "124", "52.1"] in rows
    assert rows[-1] == ["", "Total", "238", ""]


@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"until": "2022-13-45"}])
def test_bad_dates_are_ignored_with_a_notice(client, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.context["invalid_dates"] is True


@pytest.mark.parametrize("params", [{"until": "0001-01-05"}, {"since": "0001-01-01"}])
def test_dates_at_the_start_of_the_calendar_count_what_they_cover(client, peru, params):
    factories.ListingFactory(institution=peru)
    page = client.get(URL, params)
    assert page.status_code == 200
    assert page.context["stats"].listings == (0 if "until" in params else 1)
    csv_response = client.get(reverse("exchange:statistics_csv", args=["type"]), params)
    assert csv_response.status_code == 200


def test_unknown_table_is_404(client, db):
    assert client.get(reverse("exchange:statistics_csv", args=["nope"])).status_code == 404


@pytest.mark.parametrize("rows", [1, 20])
def test_query_count(client, peru, django_assert_num_queries, rows):
    factories.ListingFactory.create_batch(rows, institution=peru)

    client.get(URL)
    # Counts cached until the catalogue changes.
    with django_assert_num_queries(0):
        response = client.get(URL)
    assert response.context["stats"].listings == rows
    caching.catalogue_changed()
    # The four tables in one query on the catalogue's bitmaps.
    with django_assert_num_queries(1):
        client.get(URL)


def test_chart_and_table_are_accessible(client, peru):
    from tests import factories

    factories.ListingFactory(institution=peru)
    page = client.get(URL).content.decode()
    # Each row carries its bar; the numbers are in the table, so the bars are hidden from
    # screen readers rather than described twice.
    assert '<th scope="row">Peru</th><td>1</td><td>100.0</td>' in page
    assert 'aria-hidden="true"' in page
    assert 'width="100%"/>' in page


def test_each_bar_is_the_share_of_its_table_largest_count(client, peru, argentina):
    from tests import factories

    for _ in range(4):
        factories.ListingFactory(institution=peru)
    factories.ListingFactory(institution=argentina)
    stats = client.get(URL).context["stats"]
    assert [(row.key, row.count, row.bar) for row in stats.by_country.rows] == [
        ("ARG", 1, 25),
        ("PER", 4, 100),
    ]
    page = client.get(URL).content.decode()
    assert 'width="25%"/>' in page


def test_date_ranges_count_whole_months_and_partial_days_alike(peru):
    """The bitmaps read whole months from their month terms and partial months day by day:
    every kind of range counts what a plain reading of the dates counts."""
    moments = [
        "2023-12-31T23:59:59",
        "2024-01-01T00:00:00",
        "2024-01-15T12:00:00",
        "2024-01-31T23:59:59",
        "2024-02-01T00:00:00",
        "2024-02-29T10:00:00",
        "2024-03-10T08:00:00",
        "2025-06-30T23:00:00",
    ]
    for moment in moments:
        factories.ListingFactory(
            institution=peru,
            published_at=datetime.datetime.fromisoformat(moment).replace(tzinfo=datetime.UTC),
        )
    days = [datetime.date.fromisoformat(moment[:10]) for moment in moments]
    day = datetime.date.fromisoformat
    ranges = [
        (None, None),
        (day("2024-01-01"), None),
        (day("2024-01-02"), None),
        (None, day("2024-01-31")),
        (None, day("2024-01-30")),
        (day("2024-01-01"), day("2024-02-29")),
        (day("2024-01-15"), day("2024-01-15")),
        (day("2024-01-16"), day("2024-03-09")),
        (day("2023-12-31"), day("2024-02-01")),
        (day("2024-02-01"), day("2024-01-01")),
        (day("2020-01-01"), day("9999-12-31")),
        # The ends of the calendar (month arithmetic there overflowed).
        (day("0001-01-01"), day("9999-12-31")),
        (None, day("0001-01-05")),
        (day("0001-01-05"), day("0001-02-10")),
    ]
    for since, until in ranges:
        expected = sum(
            1 for d in days if (since is None or d >= since) and (until is None or d <= until)
        )
        stats = statistics(since=since, until=until)
        assert stats.listings == expected, (since, until)
        assert stats.by_country.total == expected, (since, until)
