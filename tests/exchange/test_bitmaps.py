"""The catalogue's bitmaps (exchange.bitmaps): kept exact by the triggers under every kind
of write, and counting what a plain reading of the listings counts."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from django.db import connection

from exchange import bitmaps
from exchange.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db


def _stored() -> dict[str, set[int]]:
    """Every term with the ids of the listings whose bit is set (empty bitmaps left out)."""
    terms: dict[str, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute("SELECT facet, value, chunk, bits::text FROM exchange_listingbitmap")
        for facet, value, chunk, bits in cursor.fetchall():
            base = chunk * bitmaps.CHUNK_BITS
            terms[f"{facet}={value}"].update(
                base + position for position, bit in enumerate(bits) if bit == "1"
            )
    return {term: ids for term, ids in terms.items() if ids}


def _expected() -> dict[str, set[int]]:
    """The terms read plainly from the listings, in Python."""
    terms: dict[str, set[int]] = defaultdict(set)
    for listing in Listing.objects.filter(status="published"):
        pairs = [
            ("published", ""),
            ("kind", listing.kind),
            ("publisher_type", listing.publisher_type),
            ("type", f"{listing.kind}_{listing.publisher_type}"),
            ("language", listing.language),
            ("month", listing.published_at.strftime("%Y%m")),
            ("country", listing.country_id),
            ("modality", listing.modality),
            ("cooperation_type", listing.cooperation_type),
            *[("focus_area", v) for v in listing.focus_area_ids],
            *[("sdg", v) for v in listing.sdg_numbers],
            *[("beneficiary", v) for v in listing.beneficiary_ids],
            *[("region", v) for v in listing.beneficiary_regions],
        ]
        if not listing.beneficiary_ids and not listing.beneficiary_regions:
            pairs.append(("open", ""))
        for facet, value in pairs:
            if value is not None and (value != "" or facet in ("published", "open")):
                terms[f"{facet}={value}"].add(listing.pk)
    return dict(terms)


def _assert_exact() -> None:
    stored = _stored()
    assert stored == _expected()
    bitmaps.rebuild()
    assert _stored() == stored


def test_triggers_keep_the_bitmaps_exact_under_every_write(peru, argentina):
    water = factories.ListingFactory(
        institution=peru, relations__focus_areas=["other"], relations__sdgs=[6, 11]
    )
    need = factories.ListingFactory(
        institution=argentina, kind="need", relations__beneficiaries=["PER"]
    )
    draft = factories.ListingFactory(institution=peru, status="draft")
    _assert_exact()
    assert _stored()["sdg=6"] == {water.pk}
    assert draft.pk not in _stored()["published="]

    # A change of facets, a withdrawal, a publication, a deletion.
    water.sdg_numbers = [13]
    water.modality = "triangular"
    water.save()
    need.status = "withdrawn"
    need.save()
    draft.status = "published"
    draft.published_at = water.published_at
    draft.save()
    _assert_exact()
    assert "sdg=6" not in _stored()
    assert need.pk not in _stored()["published="]

    draft.delete()
    _assert_exact()

    # Bulk writes, which skip Django's signals, go through the triggers as well.
    Listing.objects.bulk_create(
        [
            Listing(
                kind="offer",
                status="published",
                title=f"Bulk {n}",
                institution=peru,
                country=peru.country,
                publisher_type="member_state",
                created_by=water.created_by,
                language="en",
                published_at=water.published_at,
                focus_area_ids=[n % 3 + 1],
                sdg_numbers=[n % 17 + 1],
                beneficiary_regions=["caribbean"] if n % 2 else [],
            )
            for n in range(40)
        ]
    )
    Listing.objects.filter(title__startswith="Bulk 1").update(status="expired")
    Listing.objects.filter(title__startswith="Bulk 2").update(language="fr")
    _assert_exact()


@pytest.mark.django_db(transaction=True)
def test_emptying_the_listing_table_empties_the_bitmaps(peru):
    factories.ListingFactory(institution=peru)
    assert _stored()
    versions = bitmaps.chunk_versions()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE exchange_listing CASCADE")
    assert _stored() == {}
    # What was kept of the chunks is not read again.
    assert bitmaps.chunk_versions()[0] != versions[0]


@pytest.mark.django_db(transaction=True)
def test_a_multi_listing_transaction_and_a_publication_do_not_deadlock(peru):
    """Two real connections, in the order that deadlocked before writers of the bitmaps took
    one lock first: the first changes listing A (taking the row of sdg=7), the second
    publishes C (rows up to sdg=5, then sdg=7), the first then changes listing B (sdg=5).
    Now the publication waits for the first transaction instead, and both commit."""
    import threading

    import psycopg

    rows = {
        name: factories.ListingFactory(institution=peru, relations__sdgs=sdgs, status=status)
        for name, sdgs, status in [
            ("a", [1], "published"),
            ("b", [2], "published"),
            ("c", [5, 7], "draft"),
            ("d", [5, 7], "published"),  # the rows of sdg=5 and sdg=7 exist
        ]
    }
    params = connection.get_connection_params()
    first, second = psycopg.connect(**params), psycopg.connect(**params)
    errors: list[Exception] = []

    def publish_c() -> None:
        try:
            with second.transaction():
                second.execute(
                    "UPDATE exchange_listing SET status = 'published', published_at = now() "
                    "WHERE id = %s",
                    [rows["c"].pk],
                )
        except psycopg.Error as error:
            errors.append(error)

    add_sdg = "UPDATE exchange_listing SET sdg_numbers = sdg_numbers || %s WHERE id = %s"
    try:
        with first.transaction():
            first.execute(add_sdg, [[7], rows["a"].pk])
            publication = threading.Thread(target=publish_c)
            publication.start()
            # Go on only once the publication waits on a lock held by the first connection.
            for _ in range(500):
                blocked = first.execute(
                    "SELECT %s = ANY(pg_blocking_pids(%s))",
                    [first.info.backend_pid, second.info.backend_pid],
                ).fetchone()[0]
                if blocked:
                    break
                threading.Event().wait(0.01)
            assert blocked
            first.execute(add_sdg, [[5], rows["b"].pk])
        publication.join(timeout=30)
        assert not publication.is_alive()
    finally:
        first.close()
        second.close()
    assert errors == []
    assert set(Listing.objects.get(pk=rows["a"].pk).sdg_numbers) == {1, 7}
    assert Listing.objects.get(pk=rows["c"].pk).status == "published"
    _assert_exact()


def test_a_published_listing_without_a_date_is_refused(peru):
    """The month terms (and the statistics' date ranges) read the publication date: the
    database refuses a published listing without one, and the model says so in words."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    listing = factories.ListingFactory(institution=peru, status="draft", published_at=None)
    listing.status = "published"
    with pytest.raises(ValidationError, match="needs its publication date"):
        listing.validate_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        listing.save()
    listing.refresh_from_db()
    assert listing.status == "draft"
    _assert_exact()


def _attributes(listing: Listing) -> dict[str, set[str]]:
    return {
        "kind": {listing.kind},
        "country": {str(listing.country_id)},
        "focus_area": {str(v) for v in listing.focus_area_ids},
        "sdg": {str(v) for v in listing.sdg_numbers},
        "modality": {listing.modality} - {""},
        "language": {listing.language},
    }


def test_counts_equal_a_plain_reading_of_the_listings(peru, argentina, partner):
    rng = random.Random(7)  # noqa: S311 - a fixed sample, not a secret
    institutions = [peru, argentina, partner.institution]
    for _ in range(60):
        factories.ListingFactory(
            institution=rng.choice(institutions),
            kind=rng.choice(["offer", "offer", "need"]),
            status=rng.choice(["published", "published", "published", "draft"]),
            language=rng.choice(["es", "en", "pt"]),
            modality=rng.choice(["", "south_south", "triangular"]),
            relations__focus_areas=rng.sample(["other", "education-human-development"], k=1),
            relations__sdgs=rng.sample(range(1, 18), k=rng.choice([1, 2, 3])),
        )
    listings = [_attributes(item) for item in Listing.objects.filter(status="published")]
    facets = ["kind", "country", "focus_area", "sdg", "modality", "language"]
    some_sdgs = sorted({sdg for attributes in listings for sdg in attributes["sdg"]})[:3]
    cases = [
        {},
        {"kind": ["offer"]},
        {"kind": ["need"], "sdg": some_sdgs[:2]},
        {"language": ["es", "pt"], "modality": ["triangular"], "sdg": some_sdgs[2:]},
        {"country": [str(peru.country_id)], "kind": ["offer", "need"]},
    ]
    for filters in cases:
        expected = {facet: defaultdict(int) for facet in facets}
        for attributes in listings:
            for facet in facets:
                others = (f for f in filters if f != facet)
                if all(attributes[f] & set(filters[f]) for f in others):
                    for value in attributes[facet]:
                        expected[facet][value] += 1
        assert bitmaps.count(facets, filters=filters) == {
            facet: dict(values) for facet, values in expected.items()
        }, filters


def test_counts_within_a_selection_of_listings(peru):
    chosen = [factories.ListingFactory(institution=peru, relations__sdgs=[n]) for n in (1, 2)]
    factories.ListingFactory(institution=peru, relations__sdgs=[1])
    within = bitmaps.of_ids(
        "SELECT id FROM exchange_listing WHERE id = ANY(%s)", [[c.pk for c in chosen]]
    )
    assert bitmaps.count_by_chunk(["sdg"], within=within) == {0: {"sdg": {"1": 1, "2": 1}}}
    assert bitmaps.count_by_chunk(["sdg"], filters={"sdg": ["1"]}, within=within) == {
        0: {"sdg": {"1": 1, "2": 1}}
    }
    assert bitmaps.count_by_chunk(["kind"], filters={"sdg": ["1"]}, within=within) == {
        0: {"kind": {"offer": 1}}
    }


def test_ids_read_into_python_count_as_the_same_selection(peru):
    """``chunks_of`` (bits set in Python, sent as parameters by ``of_chunks``) selects what
    ``of_ids`` (bits set in SQL) selects, first and last bit of a chunk and later chunks
    included."""
    ids = [1, 7, 8, bitmaps.CHUNK_BITS - 1, bitmaps.CHUNK_BITS, 2 * bitmaps.CHUNK_BITS + 9]
    for pk in ids:
        factories.ListingFactory(id=pk, institution=peru, relations__sdgs=[pk % 3 + 1])
    factories.ListingFactory(id=5, institution=peru, relations__sdgs=[1])  # not selected
    from_sql = bitmaps.of_ids("SELECT id FROM exchange_listing WHERE id = ANY(%s)", [ids])
    expected = {
        0: {"sdg": {"2": 3, "3": 1}, "kind": {"offer": 4}},
        1: {"sdg": {"3": 1}, "kind": {"offer": 1}},
        2: {"sdg": {"2": 1}, "kind": {"offer": 1}},
    }
    assert bitmaps.count_by_chunk(["sdg", "kind"], within=from_sql) == expected
    in_python = bitmaps.of_chunks(bitmaps.chunks_of(ids))
    assert bitmaps.count_by_chunk(["sdg", "kind"], within=in_python) == expected
    assert bitmaps.count_by_chunk(["kind"], within=bitmaps.of_chunks({})) == {}


def test_an_empty_catalogue_counts_nothing():
    assert bitmaps.count(["kind", "sdg"], filters={"kind": ["offer"]}) == {"kind": {}, "sdg": {}}


@pytest.mark.parametrize(
    "ids", [[], [0], [7, 8], [5, 5, 3], [0, 7, 8, 15, 16, 100_000], [3 * bitmaps.CHUNK_BITS - 1]]
)
def test_of_python_sets_bit_i_for_id_i(ids):
    expected = 0
    for pk in ids:
        expected |= 1 << pk
    assert bitmaps.of_python(ids) == expected
    assert bitmaps.of_python(iter(ids)) == expected
    assert bitmaps.highest(expected, len(ids)) == sorted(set(ids), reverse=True)


def test_highest_stops_at_the_limit():
    bits = bitmaps.of_python([0, 1, 9, 255, 256, 40_000, 40_007])
    assert bitmaps.highest(bits, 3) == [40_007, 40_000, 256]
    assert bitmaps.highest(bits, 100) == [40_007, 40_000, 256, 255, 9, 1, 0]
    assert bitmaps.highest(bits, 0) == []
    assert bitmaps.highest(0, 5) == []


def test_fetch_reads_bitmaps_as_python_integers(peru, argentina):
    for n in range(5):
        factories.ListingFactory(
            institution=peru if n % 2 else argentina, relations__sdgs=[n % 3 + 1]
        )
    # Listings in later chunks of the bitmaps (ids past 32,768), first and last bits.
    for pk in (bitmaps.CHUNK_BITS, 3 * bitmaps.CHUNK_BITS - 1):
        factories.ListingFactory(id=pk, institution=peru, relations__sdgs=[1])
    _assert_exact()
    assert bitmaps.count(["sdg"], filters={"country": [peru.country_id]})["sdg"]["1"] == 3
    stored = _stored()
    terms = [("sdg", 1), ("sdg", "2"), ("kind", "offer"), ("country", peru.country_id)]
    fetched = bitmaps.fetch([*terms, ("sdg", 99)])
    assert fetched[("sdg", 99)] == 0
    for facet, value in terms:
        expected = stored[f"{facet}={value}"]
        assert fetched[(facet, value)] == bitmaps.of_python(expected)
        assert bitmaps.highest(fetched[(facet, value)], 2) == sorted(expected, reverse=True)[:2]


def test_rebuild_command_restores_lost_bitmaps(peru):
    import io

    from django.core.management import call_command

    from exchange.models import CatalogueEntry

    listing = factories.ListingFactory(institution=peru, relations__sdgs=[4])
    factories.ListingFactory(institution=peru, status="draft")
    expected = _stored()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM exchange_listingbitmap")
        cursor.execute("DELETE FROM exchange_catalogueentry")
    output = io.StringIO()
    call_command("rebuild_bitmaps", stdout=output)
    assert _stored() == expected
    assert list(CatalogueEntry.objects.values_list("listing_id", flat=True)) == [listing.pk]
    assert "bitmap rows and 1 search entries rebuilt" in output.getvalue()


def test_a_chunk_has_a_new_version_whenever_a_listing_of_it_in_the_catalogue_changes(peru):
    """CatalogueChunk: each write to a listing that is or was published gives its chunk a
    new version, and only its chunk; drafts give none. A version taken in a transaction
    that was rolled back is not given again (versions are drawn, not counted)."""
    from django.db import transaction

    first = factories.ListingFactory(institution=peru)
    far = factories.ListingFactory(institution=peru, pk=2 * bitmaps.CHUNK_BITS + 5)
    draft = factories.ListingFactory(institution=peru, status="draft")
    seen = set(bitmaps.chunk_versions().values())
    before = bitmaps.chunk_versions()
    assert set(before) == {0, 2}

    def changed(write) -> set[int]:
        nonlocal before
        write()
        now = bitmaps.chunk_versions()
        assert not (set(now.values()) - set(before.values())) & seen  # never given before
        seen.update(now.values())
        chunks = {chunk for chunk in now if now[chunk] != before.get(chunk)}
        before = now
        return chunks

    assert changed(lambda: Listing.objects.filter(pk=far.pk).update(title="Agua")) == {2}
    assert changed(lambda: Listing.objects.filter(pk=first.pk).update(modality="regional")) == {0}
    assert changed(lambda: Listing.objects.filter(pk=draft.pk).update(title="Draft")) == set()
    assert changed(lambda: Listing.objects.filter(pk=far.pk).update(status="withdrawn")) == {2}
    # Withdrawn: no longer in the catalogue, so its changes change nothing there.
    assert changed(lambda: Listing.objects.filter(pk=far.pk).update(title="Again")) == set()
    assert changed(lambda: Listing.objects.filter(pk=first.pk).delete()) == {0}

    # Rolled back: the chunk's version is the one before, and the next one is new.
    sid = transaction.savepoint()
    Listing.objects.filter(pk=far.pk).update(status="published")
    rolled_back = bitmaps.chunk_versions()[2]
    transaction.savepoint_rollback(sid)
    assert bitmaps.chunk_versions() == before
    assert changed(lambda: Listing.objects.filter(pk=far.pk).update(status="published")) == {2}
    assert bitmaps.chunk_versions()[2] != rolled_back


def test_a_rebuild_gives_every_chunk_a_new_version(peru):
    factories.ListingFactory(institution=peru)
    factories.ListingFactory(institution=peru, pk=bitmaps.CHUNK_BITS + 1)
    before = bitmaps.chunk_versions()
    bitmaps.rebuild()
    after = bitmaps.chunk_versions()
    assert set(after) == set(before) == {0, 1}
    assert all(after[chunk] != before[chunk] for chunk in after)


def test_counts_by_chunk_equal_a_plain_reading_of_each_chunk(peru, argentina):
    """``count_by_chunk`` counts each chunk of ``within`` on its own, under the filters of
    the other facets: what counting the listings of each chunk plainly gives."""
    rng = random.Random(5)  # noqa: S311 - a fixed sample, not a secret
    listings = [
        factories.ListingFactory(
            pk=chunk * bitmaps.CHUNK_BITS + 20 + n,
            institution=rng.choice([peru, argentina]),
            relations__sdgs=rng.sample([4, 6, 16], k=rng.choice([1, 2])),
        )
        for chunk in (0, 1, 3)
        for n in range(6)
    ]
    chosen = [listing for listing in listings if listing.pk % 2 == 0]
    within = bitmaps.of_chunks(bitmaps.chunks_of([listing.pk for listing in chosen]))
    for filters in ({}, {"sdg": [6]}, {"country": [peru.country_id], "sdg": [4, 16]}):
        expected: dict[int, dict[str, dict[str, int]]] = {}
        for listing in chosen:
            values = {
                "sdg": listing.sdg_numbers,
                "country": [listing.country_id],
                "kind": [listing.kind],
            }
            for facet, own in values.items():
                if all(
                    set(values[other]) & set(chosen_values)
                    for other, chosen_values in filters.items()
                    if other != facet
                ):
                    counts = expected.setdefault(
                        listing.pk // bitmaps.CHUNK_BITS, {f: {} for f in values}
                    )
                    for value in own:
                        counts[facet][str(value)] = counts[facet].get(str(value), 0) + 1
        shown = bitmaps.count_by_chunk(["sdg", "country", "kind"], filters=filters, within=within)
        assert shown == expected, filters
        assert set(shown) == {0, 1, 3} or filters


def test_the_chunk_trigger_takes_the_writers_lock_before_the_search_entries_are_written():
    """PostgreSQL fires a row's triggers in the order of their names: the bitmaps' and the
    chunks' triggers (which take the catalogue writers' lock) before the search entries'
    (which does not), for every operation."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'exchange_listing'::regclass "
            "AND tgname LIKE 'pgtrigger_listing_%%_update_%%' ORDER BY tgname"
        )
        names = [name for (name,) in cursor.fetchall()]
    order = [
        next(i for i, name in enumerate(names) if name.startswith(f"pgtrigger_listing_{part}_"))
        for part in ("bitmaps", "catalogue_chunk", "catalogue_entry")
    ]
    assert order == sorted(order)
    assert "pg_advisory_xact_lock" in bitmaps.CHUNK_CHANGED_SQL
