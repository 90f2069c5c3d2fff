"""The public catalogue: facets, full-text search, sorting, pages, htmx, bad parameters."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from exchange import caching
from exchange.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("exchange:catalogue")


def _titles(response) -> list[str]:
    return [listing.title for listing in response.context["page"].listings]


@pytest.fixture
def catalogue(peru, argentina, partner):
    return {
        "water": factories.ListingFactory(
            institution=peru,
            title="Gestión de aguas potables en zonas rurales",
            summary="Acceso al agua y saneamiento para comunidades andinas.",
            relations__focus_areas=["sustainable-development-environment"],
            relations__sdgs=[6],
        ),
        "cooperation": factories.ListingFactory(
            institution=argentina,
            title="Cooperación técnica en estadísticas públicas",
            summary="Intercambio de expertos entre oficinas de estadística.",
            relations__focus_areas=["other"],
            relations__sdgs=[16, 17],
        ),
        "english": factories.ListingFactory(
            institution=argentina,
            language="en",
            kind="need",
            title="Drinking water quality monitoring for small towns",
            summary="We need capacity building in laboratory analysis of water.",
            relations__focus_areas=["sustainable-development-environment"],
            relations__sdgs=[6, 3],
        ),
        "partner": factories.ListingFactory(
            institution=partner.institution,
            title="Plataforma de formación docente en línea",
            summary="Cursos virtuales para docentes de secundaria.",
            relations__focus_areas=["education-human-development"],
            relations__sdgs=[4],
        ),
        "draft": factories.ListingFactory(
            institution=peru, status="draft", title="Borrador secreto"
        ),
        "submitted": factories.ListingFactory(
            institution=peru, status="submitted", title="En revisión"
        ),
    }


def test_only_published_listings_appear(client, catalogue):
    response = client.get(URL)
    assert response.status_code == 200
    assert sorted(_titles(response)) == sorted(
        catalogue[key].title for key in ("water", "cooperation", "english", "partner")
    )
    assert response.context["page"].total == 4


def test_facet_counts_follow_the_other_filters(client, catalogue):
    response = client.get(URL, {"country": "ARG"})
    facets = response.context["page"].facets
    assert response.context["page"].total == 2
    # The country facet ignores its own filter, so every country keeps its count.
    assert facets["country"] == {
        factories.country("PER").pk: 1,
        factories.country("ARG").pk: 2,
        factories.country("MEX").pk: 1,
    }
    assert facets["kind"] == {"offer": 1, "need": 1}
    assert facets["sdg"] == {16: 1, 17: 1, 6: 1, 3: 1}
    area = factories.focus_area("sustainable-development-environment").pk
    assert facets["focus_area"][area] == 1


def test_filters_combine(client, catalogue):
    response = client.get(
        URL, {"focus_area": "sustainable-development-environment", "kind": "need", "sdg": "6"}
    )
    assert _titles(response) == [catalogue["english"].title]
    response = client.get(URL, {"publisher_type": "partner"})
    assert _titles(response) == [catalogue["partner"].title]
    response = client.get(URL, {"language": "en", "modality": "south_south"})
    assert _titles(response) == [catalogue["english"].title]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("agua potable", "water"),
        ("aguas potables", "water"),
        ("cooperacion", "cooperation"),
        ("COOPERACIÓN técnica", "cooperation"),
        ("drinking water", "english"),
        ("monitor", "english"),
        ('"formación docente"', "partner"),
        ("estadistica -agua", "cooperation"),
    ],
)
def test_full_text_search(client, catalogue, query, expected):
    response = client.get(URL, {"q": query})
    assert _titles(response) == [catalogue[expected].title]


FOLD_SAMPLES = [
    "Cooperación ÁÉÍÓÚ àèìòù ÂÊÎÔÛ äëïöü ãõ ÑñÇç ÿÝ",
    "Œuvre ÆØ æø Ærø",
    "Cooperacio\u0301n",  # decomposed, as some keyboards type it
    "Łódź Škoda Ştefan Ğ İstanbul",
    "ÉCONOMIE SOLIDAIRE",
]


@pytest.mark.parametrize("text", FOLD_SAMPLES)
def test_python_and_postgres_fold_alike(text):
    """Queries are folded in Python and documents in the trigger's SQL: they must agree."""
    from django.db import connection

    from exchange.text import fold, fold_sql

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fold_sql('%s')}", [text])
        assert cursor.fetchone()[0] == fold(text)


def test_decomposed_accents_are_searchable(client, peru):
    listing = factories.ListingFactory(
        institution=peru, title="Gestio\u0301n del agua en Ñuñoa", summary="Resumen."
    )
    for query in ("gestion", "gestión", "Gestio\u0301n", "nunoa"):
        assert _titles(client.get(URL, {"q": query})) == [listing.title], query
    assert "<mark>Gestión</mark>" in client.get(URL, {"q": "gestion"}).content.decode()


def test_a_result_shows_its_kind_country_publisher_and_areas_in_the_reader_language(client, peru):
    listing = factories.ListingFactory(
        institution=peru,
        title="Gestión del riesgo",
        relations__focus_areas=["education-human-development", "other"],
    )
    client.cookies["django_language"] = "es"
    page = client.get(URL).content.decode()
    country = reverse("exchange:country", args=["PER"])
    assert (
        '<p class="meta"><span class="kind kind-offer">Oferta</span>'
        f' · <a href="{country}">Perú</a> · {peru.name}</p>'
    ) in page
    assert f'<a href="{listing.get_absolute_url()}" lang="es">Gestión del riesgo</a>' in page
    assert '<p class="tags">Educación y Desarrollo Humano · Otra</p>' in page


def _spans_word_by_word(text, query):
    """The words ``highlight`` marked before one pattern found them: each word of the
    folded text tested against each stem of the query in Python."""
    from exchange.text import WORD, fold_each, query_words

    stems = [word[: max(4, len(word) - 2)] for word in query_words(query)]
    return [
        match.span()
        for match in WORD.finditer(fold_each(text))
        if any(match.group().startswith(stem) for stem in stems)
    ]


HIGHLIGHT_TEXTS = [
    "Gestión de aguas potables en zonas rurales: acceso al agua y saneamiento.",
    "Agua, AGUA, aguacero y paraguas; potabilización del agua potable.",
    "Cooperacio\u0301n técnica en estadísticas públicas <b>y</b> cooperativas & co.",
    "Œuvres d'économie solidaire à Montréal; l'économie de l'eau potable.",
    "Educação profissional e tecnológica no Brasil, educacional.",
    "Sin ninguna coincidencia en este texto. " * 12,
    ("Un texto largo " * 30) + "con agua potable al final " + ("y más texto " * 30),
    "",
]
HIGHLIGHT_QUERIES = [
    "agua potable",
    '"agua potable" -sequía',
    "cooperación OR estadística",
    "économie",
    "educação",
    "a",
    "!!!",
    "agua agua agu",
]


@pytest.mark.parametrize("query", HIGHLIGHT_QUERIES)
def test_highlight_marks_the_words_a_word_by_word_reading_marks(query):
    import unicodedata

    from exchange.text import matched_spans

    for text in HIGHLIGHT_TEXTS:
        text = unicodedata.normalize("NFC", text)
        assert matched_spans(text, query) == _spans_word_by_word(text, query), (text, query)


def test_fold_strips_every_mark_as_a_character_by_character_reading_does():
    """``fold`` removes combining marks with a pattern; a table of every mark, applied
    character by character, gives the same text over the Latin, Greek and Cyrillic blocks."""
    import unicodedata

    from exchange.text import COMBINING, UNDECOMPOSED, UNDECOMPOSED_PLAIN, fold

    marks = dict.fromkeys(range(COMBINING[0], COMBINING[1] + 1))
    letters = str.maketrans(UNDECOMPOSED, UNDECOMPOSED_PLAIN)
    text = "".join(map(chr, range(0x20, 0x530))) + "".join(FOLD_SAMPLES)
    expected = unicodedata.normalize("NFD", text).translate(marks).translate(letters).lower()
    assert fold(text) == expected


def test_search_highlights_and_escapes(client, peru):
    factories.ListingFactory(
        institution=peru,
        title="Alerta <b>temprana</b>",
        summary="Sistemas de alerta <script>alert(1)</script> temprana.",
    )
    page = client.get(URL, {"q": "temprana"}).content.decode()
    assert "<mark>temprana</mark>" in page
    assert "<script>alert(1)</script>" not in page
    assert "Alerta &lt;b&gt;<mark>temprana</mark>&lt;/b&gt;" in page


def test_relevance_and_title_sorting(client, catalogue):
    by_title = _titles(client.get(URL, {"sort": "title"}))
    assert by_title == sorted(by_title)
    relevance = client.get(URL, {"q": "agua", "sort": "relevance"})
    assert relevance.context["page"].ranked is True
    assert _titles(relevance)[0] == catalogue["water"].title


@pytest.mark.parametrize(
    "params",
    [
        {"country": "XXX"},
        {"focus_area": "<script>"},
        {"sdg": "99"},
        {"sdg": "abc"},
        {"kind": "everything"},
        {"page": "-3"},
        {"page": "99999999999999"},
        {"sort": "DROP TABLE"},
        {"q": "x" * 500},
        {"q": "'\"&|!():*<>"},
    ],
)
def test_bad_parameters_are_ignored_not_errors(client, catalogue, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.context["page"].total >= 0


def test_unknown_facet_value_says_it_was_ignored(client, catalogue):
    response = client.get(URL, {"country": ["ARG", "XXX"]})
    assert response.context["ignored"] == ["country"]
    assert response.context["page"].total == 2
    assert "were not recognised" in response.content.decode()


def test_htmx_gets_only_the_results(client, catalogue):
    response = client.get(URL, {"kind": "need"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert catalogue["english"].title in body
    assert 'name="kind"' in body


def test_pages(client, peru):
    factories.ListingFactory.create_batch(25, institution=peru)
    first = client.get(URL)
    assert (first.context["page"].pages, len(first.context["page"].listings)) == (2, 20)
    second = client.get(URL, {"page": 2})
    assert len(second.context["page"].listings) == 5
    assert not set(_titles(first)) & set(_titles(second))
    beyond = client.get(URL, {"page": 40})
    assert beyond.context["page"].page == 2


def test_empty_state(client, db):
    assert "No listing matches these filters" in client.get(URL).content.decode()


@pytest.mark.parametrize("rows", [1, 30])
def test_query_count_is_constant(
    client, peru, django_assert_num_queries, django_capture_on_commit_callbacks, rows
):
    from exchange import selectors

    factories.ListingFactory.create_batch(rows, institution=peru)
    params = {"country": "PER", "q": "riesgo", "sort": "newest"}
    selectors.reference()  # countries, areas and goals: read once for every page
    # First read of these filters: the versions of the catalogue's chunks, the text query's
    # matches in each (read once, for the counts and the results), the eight facet counts
    # within them in one query on the catalogue's bitmaps, then the page of results.
    with django_assert_num_queries(4):
        client.get(URL, params)
    # Read again until the catalogue changes: nothing asked of the database.
    with django_assert_num_queries(0):
        response = client.get(URL, params)
    assert response.context["page"].total == rows
    # Another order of the same filters: its own first results of each chunk (the versions,
    # the matches ranked; their counts are kept), then the page's rows.
    with django_assert_num_queries(3):
        client.get(URL, {**params, "sort": "relevance"})
    # By title the results are ordered in SQL, and the counts are kept: one query.
    with django_assert_num_queries(1):
        client.get(URL, {**params, "sort": "title"})
    # Without a text query: the facet counts, then the page.
    with django_assert_num_queries(2):
        client.get(URL, {"country": "PER"})
    # A change that leaves every chunk's listings as they were, an institution renamed: the
    # matches and their counts are read from the cache, the page's rows again.
    peru.name = "Agencia Peruana de Cooperación Internacional (APCI)"
    with django_capture_on_commit_callbacks(execute=True):
        peru.save()
    with django_assert_num_queries(2):
        response = client.get(URL, params)
    assert {row.institution for row in response.context["page"].listings} == {peru.name}
    # A listing changed: its chunk's matches are read again.
    Listing.objects.filter(pk=Listing.objects.first().pk).update(modality="bilateral")
    caching.catalogue_changed()
    with django_assert_num_queries(4):
        client.get(URL, params)


def test_text_query_pages_equal_a_plain_reading(client, peru, argentina, partner):
    """A text query's page is built from its matches read once per chunk of the catalogue
    (``exchange.catalogue._text_matches``), the chunks' results merged: under every sort, page and
    filter mix it shows the listings, total and facet counts that filtering, searching and
    ordering the listings directly gives; and still does after listings of one chunk changed,
    when that chunk alone is read again and the others come from the cache."""
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exchange import bitmaps
    from exchange import catalogue as exchange_catalogue  # the fixture is named catalogue

    rng = random.Random(11)  # noqa: S311 - a fixed sample, not a secret
    listings = []
    for n in range(46):
        listings.append(
            factories.ListingFactory(
                # Spread over three chunks, so that every page merges them.
                pk=1000 + n + (n % 3) * bitmaps.CHUNK_BITS,
                institution=rng.choice([peru, argentina, partner.institution]),
                title=rng.choice(["Agua potable rural", "Aguas potables", "Gestión pública"])
                + f" {n}",
                language=rng.choice(["es", "en"]),
                status=rng.choice(["published"] * 4 + ["draft"]),
                relations__sdgs=rng.sample([6, 16, 17], k=rng.choice([1, 2])),
            )
        )
    cases = [
        ({"q": "agua potable"}, {}),
        ({"q": "agua potable", "sdg": "16"}, {"sdg": (16,)}),
        (
            {"q": "agua potable", "sdg": ["6", "17"], "language": "es"},
            {"sdg": (6, 17), "language": ("es",)},
        ),
        ({"q": "agua", "country": "PER", "kind": "offer"}, {"country": (peru.country_id,)}),
    ]

    def compare() -> int:
        longest = 0
        for params, filters in cases:
            if "kind" in params:
                filters = {**filters, "kind": ("offer",)}
            for sort in ("relevance", "newest", "title"):
                for page in (1, 2):
                    query = exchange_catalogue.CatalogueQuery(
                        q=params["q"], sort=sort, page=page, **filters
                    )
                    expected = list(
                        exchange_catalogue.catalogue_listings(query).values_list("pk", flat=True)
                    )
                    unfiltered_sdg = exchange_catalogue.CatalogueQuery(
                        q=params["q"], **{k: v for k, v in filters.items() if k != "sdg"}
                    )
                    sdg_counts: dict[int, int] = {}
                    for numbers in exchange_catalogue.catalogue_listings(
                        unfiltered_sdg
                    ).values_list("sdg_numbers", flat=True):
                        for number in numbers:
                            sdg_counts[number] = sdg_counts.get(number, 0) + 1
                    caching.catalogue_changed()
                    shown = client.get(URL, {**params, "sort": sort, "page": page}).context["page"]
                    case = (params, sort, page)
                    # A page past the last shows the last.
                    assert shown.page == min(page, -(-len(expected) // 20)), case
                    assert [row.pk for row in shown.listings] == expected[
                        (shown.page - 1) * 20 : shown.page * 20
                    ], case
                    assert shown.total == len(expected), case
                    assert shown.facets["sdg"] == sdg_counts, case
                    longest = max(longest, len(expected))
        return longest

    assert compare() > 20  # a second page was compared
    assert len({listing.pk // bitmaps.CHUNK_BITS for listing in listings}) == 3

    # Listings of chunk 1 change: one no longer matches, one is newer, a draft is published.
    in_chunk_1 = [listing for listing in listings if listing.pk // bitmaps.CHUNK_BITS == 1]
    published = [listing for listing in in_chunk_1 if listing.status == "published"]
    draft = next(listing for listing in in_chunk_1 if listing.status == "draft")
    Listing.objects.filter(pk=published[0].pk).update(title="Gestión pública")
    Listing.objects.filter(pk=published[1].pk).update(
        published_at=published[1].published_at.replace(year=2030)
    )
    Listing.objects.filter(pk=draft.pk).update(
        title="Agua potable", status="published", published_at=published[1].published_at
    )
    caching.catalogue_changed()
    with CaptureQueriesContext(connection) as captured:
        client.get(URL, {"q": "agua potable", "sort": "relevance"})
    read = [q["sql"] for q in captured.captured_queries if "exchange_catalogueentry" in q["sql"]]
    assert len(read) == 1
    # The changed chunk only, as a range of ids, with plain index scans off around it.
    low, high = bitmaps.CHUNK_BITS, 2 * bitmaps.CHUNK_BITS
    assert f"(listing_id >= {low} AND listing_id < {high})" in read[0]
    assert "listing_id >= 0 " not in read[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_indexscan')")
        assert cursor.fetchone() == ("on",)
    assert compare() > 20


def test_the_matches_of_some_chunks_are_those_of_all_read_for_them(peru):
    """``_chunk_matches`` for some chunks (ranges of ids, consecutive chunks together) gives
    for each what reading every chunk gives: its first results and its facet counts."""
    from exchange import bitmaps, search
    from exchange import catalogue as exchange_catalogue  # the fixture is named catalogue

    pks = {}
    for chunk in (0, 1, 2, 4):
        for n in range(3):
            listing = factories.ListingFactory(
                pk=chunk * bitmaps.CHUNK_BITS + 10 + n,
                institution=peru,
                title=f"Agua potable {chunk} {n}",
                relations__sdgs=[6 if n else 16],
            )
            pks.setdefault(chunk, []).append(listing.pk)
    for sort, filters, depth in [("relevance", {}, 20), ("newest", {"sdg": (6,)}, 20)]:
        query = exchange_catalogue.CatalogueQuery(q="agua potable", sort=sort, page=1, **filters)
        every = exchange_catalogue._chunk_matches(
            query, search.search_query(query.q), [0, 1, 2, 4], depth=depth, every=True
        )
        entry = exchange_catalogue._ENTRY_FORMATS[sort]
        for chunk, (results, counts) in every.items():
            # Each chunk's own results, in the order asked for, and its own counts.
            shown = [values[-1] for values in entry.iter_unpack(results)]
            expected = pks[chunk][1:] if filters else pks[chunk]
            assert sorted(shown) == sorted(expected), (sort, chunk)
            assert counts["kind"] == {"offer": len(expected)}, (sort, chunk)
            # SDGs are counted under the other facets' filters, not their own.
            assert counts["sdg"] == {"6": 2, "16": 1}, (sort, chunk)
        for some in ([0, 2], [1, 2], [4], [2, 4, 0]):
            read = exchange_catalogue._chunk_matches(
                query, search.search_query(query.q), some, depth=depth, every=False
            )
            assert read == {chunk: every[chunk] for chunk in some}, (sort, some)


READING_QUERIES = [
    "agua potable",
    "Sendai",
    '"gestión del riesgo" -sequía or agua',
    "drinking water",
    "educação profissional",
    "économie solidaire",
    "2030 2015",  # read alike in every language: an AND, kept under an OR
    "the",  # a stop word in English only
    "a",  # a stop word in most of the languages
    "!!!",  # no lexeme at all
]


def _plain_or(text):
    """The query as it was written before migration exchange/0011: every reading OR'ed."""
    from django.contrib.postgres.search import SearchQuery

    from exchange.search import CONFIGS
    from exchange.text import fold

    folded = fold(text).strip()
    query = SearchQuery(folded, search_type="websearch", config="simple")
    for config in CONFIGS.values():
        query |= SearchQuery(folded, search_type="websearch", config=config)
    return query


def test_a_text_query_matches_and_ranks_as_the_or_of_every_reading(peru, argentina):
    """``search_query`` ORs each distinct reading of a text once; matches and ``ts_rank``
    are those of the plain OR of the five readings, listing by listing."""
    from django.contrib.postgres.search import SearchRank
    from django.db.models import F

    from exchange import search
    from exchange.models import Listing

    texts = [
        ("es", "Agua potable y saneamiento rural", "Gestión del riesgo de desastres y sequía."),
        ("es", "Aguas potables para escuelas", "Marco de Sendai en municipios."),
        ("en", "Drinking water quality", "The Sendai framework and a water plan."),
        ("pt", "Educação profissional e técnica", "Água potável nas escolas."),
        ("fr", "Économie solidaire", "Gestion du risque et eau potable."),
        ("es", "Gestión pública", "Gobierno abierto: Agenda 2030 y Marco de Sendai 2015."),
    ]
    for n, (language, title, summary) in enumerate(texts):
        factories.ListingFactory(
            institution=peru if n % 2 else argentina,
            language=language,
            title=title,
            summary=summary,
        )
    matched = 0
    for text in READING_QUERIES:
        readings = {}
        for name, query in (("distinct", search.search_query(text)), ("plain", _plain_or(text))):
            readings[name] = dict(
                Listing.objects.filter(search_vector=query)
                .annotate(rank=SearchRank(F("search_vector"), query))
                .values_list("pk", "rank")
            )
        assert readings["distinct"] == readings["plain"], text
        matched += len(readings["plain"])
    assert matched > 8  # the queries found listings, ranked alike


def test_a_text_query_is_planned_with_its_readings(db):
    """PostgreSQL evaluates ``exchange_search_query`` while planning, so the plan holds the
    tsquery itself, whose lexemes it can estimate (not a parameter computed at run time)."""
    from django.db import connection

    from exchange import search
    from exchange.models import Listing

    listings = Listing.objects.filter(search_vector=search.search_query("Agua potable"))
    sql, params = listings.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    readings = "'agua' & 'potable' | 'agua' & 'potabl' | 'agu' & 'potabl'"
    assert readings.replace("'", "''") in plan
    assert "exchange_search_query" not in plan
    assert "InitPlan" not in plan


def test_any_of_lookup_binds_one_array(peru):
    """``pk__any_of`` (cooperanet.lookups) selects what ``pk__in`` selects, with one
    parameter whatever the number of ids; an empty list selects nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exchange.models import Listing

    listings = factories.ListingFactory.create_batch(3, institution=peru)
    wanted = [listings[0].pk, listings[2].pk, 10**9]
    with CaptureQueriesContext(connection) as captured:
        found = set(Listing.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    assert found == {listings[0].pk, listings[2].pk}
    assert "= ANY(" in captured.captured_queries[0]["sql"]
    assert not Listing.objects.filter(pk__any_of=[]).exists()


def test_a_request_reads_the_catalogue_versions_once(client, monkeypatch):
    """A page asks for the catalogue's and the reference data's versions several times:
    within a request they come from Redis once, and a change made during the request is
    seen; outside a request (tasks, commands) every read goes to Redis."""
    from django.core.cache import cache

    from exchange import selectors

    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    version = caching.catalogue_version()
    caching.request_started()
    try:
        assert caching.catalogue_version() == version
        selectors.reference()
        caching.catalogue_cached("test", lambda: 1)
        assert len(reads) == 1
        caching.catalogue_changed()
        assert caching.catalogue_version() == version + 1
    finally:
        caching.request_finished()
    cache.incr(caching.VERSION_KEY)  # a change made by another process
    assert caching.catalogue_version() == version + 2
    assert len(reads) == 1
    # The page's requests open and close the memo (exchange.signals): the versions (the
    # catalogue's filters are read with the reference data), then the page's parts
    # (catalogue_prefetch); the statistics read their part with the versions.
    client.get(reverse("exchange:catalogue"))
    assert len(reads) == 3
    assert reads[1] == [caching.VERSION_KEY, caching.REFERENCE_VERSION_KEY]
    client.get(reverse("exchange:statistics"))
    assert len(reads) == 4
    assert reads[3][:2] == [caching.VERSION_KEY, caching.REFERENCE_VERSION_KEY]
    assert caching._request.versions is None


def _cache_calls(monkeypatch) -> list[tuple[str, object]]:
    """The calls made to the cache from now on: (method, its first argument)."""
    from django.core.cache import cache

    calls = []
    for name in ("get", "set", "get_many", "set_many"):
        method = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *args, _name=name, _method=method, **kwargs: (
                calls.append((_name, args[0])) or _method(*args, **kwargs)
            ),
        )
    return calls


@pytest.mark.parametrize(
    ("url", "parts", "reads", "write"),
    [
        # The versions (its filters are read with the reference data), then its results,
        # their counts and the filter column, read and written at once.
        (reverse("exchange:catalogue") + "?kind=offer", 3, ["get_many", "get_many"], "set_many"),
        # The versions and the counts at once.
        (reverse("exchange:statistics"), 1, ["get_many"], "set"),
    ],
)
def test_a_page_speaks_to_the_cache_in_few_round_trips(
    client, peru, monkeypatch, url, parts, reads, write
):
    """Cold (just after a change), a page reads all its cached parts at once, and writes what
    it computed at once when the request has finished; warm, it only reads."""

    factories.ListingFactory.create_batch(2, institution=peru)
    assert client.get(url).status_code == 200  # the reference data read and kept
    calls = _cache_calls(monkeypatch)
    caching.catalogue_changed()
    version = caching.catalogue_version()
    calls.clear()
    assert client.get(url).status_code == 200
    assert [name for name, _keys in calls] == [*reads, write], calls
    assert len(calls[len(reads) - 1][1]) == parts + (2 if len(reads) == 1 else 0)
    written = calls[-1][1] if write == "set_many" else [calls[-1][1]]
    assert len(written) == parts
    assert all(key.startswith("exchange:catalogue:") for key in written)
    from django.core.cache import cache

    assert all(cache.get(key)[0] == version for key in written)
    calls.clear()
    assert client.get(url).status_code == 200
    assert [name for name, _keys in calls] == reads


def test_a_part_of_an_older_version_is_computed_again():
    from django.core.cache import cache

    caching.catalogue_changed()
    assert caching.catalogue_cached("part", lambda: [1, 2]) == [1, 2]
    key = caching.entry_key("part")
    assert key == f"exchange:catalogue:{caching.CACHE_FORMAT}:part"
    assert cache.get(key) == (caching.catalogue_version(), [1, 2])
    assert caching.catalogue_cached("part", lambda: [3]) == [1, 2]
    caching.catalogue_changed()
    assert caching.catalogue_cached("part", lambda: [3]) == [3]
    caching.request_started()
    try:
        caching.catalogue_prefetch("part")
        assert caching.catalogue_cached("part", lambda: [4]) == [3]
        caching.catalogue_changed()
        assert caching.catalogue_cached("part", lambda: [5]) == [5]
    finally:
        caching.request_finished()
    assert cache.get(key) == (caching.catalogue_version(), [5])
    caching.catalogue_prefetch("part")  # nothing to do outside a request


def test_a_listing_page_reads_the_listing_and_its_matches_at_once(client, peru, monkeypatch):

    need = factories.ListingFactory(institution=peru, kind="need", relations__sdgs=[6])
    factories.ListingFactory(
        institution=factories.AuthorityFactory(country=factories.country("ARG")),
        relations__sdgs=[6],
    )
    assert client.get(need.get_absolute_url()).status_code == 200
    calls = _cache_calls(monkeypatch)
    caching.catalogue_changed()
    calls.clear()
    page = client.get(need.get_absolute_url())
    assert len(page.context["matches"]) == 1
    parts = [
        caching.entry_key(f"listing:{need.pk}"),
        caching.entry_key(f"match-list:{need.pk}:10"),
    ]
    # The versions with the listing and its matches, its description (kept by its text),
    # then the two parts written when the request has finished.
    assert [name for name, _keys in calls] == ["get_many", "get", "set_many"], calls
    assert calls[0][1] == [caching.VERSION_KEY, caching.REFERENCE_VERSION_KEY, *parts]
    assert sorted(calls[2][1]) == parts


def test_download_and_page_links_keep_the_filters(client, peru):
    factories.ListingFactory.create_batch(21, institution=peru, relations__sdgs=[6])
    page = client.get(URL, {"sdg": "6", "kind": "offer", "page": "2"}).content.decode()
    export = reverse("exchange:catalogue_export", args=["csv"])
    assert f'<a href="{export}?sdg=6&amp;kind=offer" download>CSV</a>' in page
    assert (
        '<a href="?sdg=6&amp;kind=offer&amp;page=1" rel="prev" '
        'hx-get="?sdg=6&amp;kind=offer&amp;page=1" hx-target="#catalogue-body"'
    ) in page
    assert 'rel="next"' not in page
    first = client.get(URL, {"sdg": "6", "kind": "offer"}).content.decode()
    assert (
        '<a href="?sdg=6&amp;kind=offer&amp;page=2" rel="next" '
        'hx-get="?sdg=6&amp;kind=offer&amp;page=2" hx-target="#catalogue-body"'
    ) in first


def test_a_page_of_results_is_compiled_once_and_reads_the_rows_of_now(client, peru):
    """The SQL of a page of results is compiled once per query and process; its rows are
    read afresh after every change."""
    from exchange import catalogue as exchange_catalogue  # the fixture is named catalogue

    exchange_catalogue._rows_statement.cache_clear()
    first = factories.ListingFactory(institution=peru, relations__sdgs=[6])
    assert _titles(client.get(URL, {"sdg": "6"})) == [first.title]
    second = factories.ListingFactory(institution=peru, relations__sdgs=[6])
    caching.catalogue_changed()  # as on commit
    assert set(_titles(client.get(URL, {"sdg": "6"}))) == {first.title, second.title}
    info = exchange_catalogue._rows_statement.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    # Found by text, the rows are read by their ids: one statement for every text query.
    assert _titles(client.get(URL, {"q": first.title, "sort": "newest"}))[0] == first.title
    assert _titles(client.get(URL, {"q": second.title, "sort": "newest"}))[0] == second.title
    info = exchange_catalogue._rows_statement.cache_info()
    assert (info.misses, info.hits) == (2, 2)


@pytest.mark.parametrize(
    "query",
    ["", "page=3", "sdg=6&page=2&kind=offer", "q=gesti%C3%B3n+del+riesgo&sdg=6&sdg=13", "page="],
)
@pytest.mark.parametrize("page", [None, 1, 4])
def test_page_links_are_written_as_djangos_querystring(rf, query, page):
    """The catalogue's download and page links set the page number as Django's
    ``{% querystring %}`` would (which took 0.3 ms a page)."""
    from django.template import RequestContext, Template

    from exchange.templatetags.exchange_rows import _with_page

    request = rf.get(f"/catalogue/?{query}")
    django = Template("{% querystring page=page %}").render(RequestContext(request, {"page": page}))
    assert _with_page(request.GET, page) == html.unescape(django)  # the template escapes it
