"""The long lists of the public pages, written by ``exchange_rows`` rather than a template
loop: the same markup, every value from data escaped, the reasons in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from exchange.matching import Match, MatchedListing
from exchange.statistics import Row, Table
from exchange.templatetags.exchange_rows import (
    facet_fieldsets,
    listing_cards,
    match_items,
    statistics_tables,
)
from tests import factories

PAYLOAD = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def test_statistics_tables_escape_the_labels_and_keep_the_date_range():
    rows = [
        Row(key="a", label=PAYLOAD, count=12, percentage=50.0, bar=100, shown_percentage="50,0"),
        Row(key="b", label="Perú", count=0, percentage=0.0, bar=0, shown_percentage="0,0"),
    ]
    table = Table("country", rows, 12, "Listings by country")
    html = statistics_tables([table], "since=2024-01-01&until=2024-12-31")
    assert isinstance(html, SafeString)
    bar = (
        '<td class="bar-cell"><svg class="bar-chart" aria-hidden="true" focusable="false" '
        'width="100%" height="14"><rect class="bar" x="0" y="0" height="14" width="{}%"/>'
        "</svg></td></tr>"
    )
    assert html == (
        '<section class="stat-table" aria-labelledby="stat-country">'
        '<h2 id="stat-country">Listings by country</h2><table class="chart-table">'
        '<thead><tr><th scope="col">Label</th><th scope="col">Listings</th>'
        '<th scope="col">%</th><th scope="col"><span class="visually-hidden">Bar chart</span>'
        "</th></tr></thead><tbody>"
        f'<tr><th scope="row">{ESCAPED}</th><td>12</td><td>50,0</td>{bar.format(100)}'
        f'<tr><th scope="row">Perú</th><td>0</td><td>0,0</td>{bar.format(0)}'
        '</tbody><tfoot><tr><th scope="row">Total</th><td>12</td><td></td><td></td></tr>'
        '</tfoot></table><p><a href="/statistics/country.csv?since=2024-01-01&amp;'
        'until=2024-12-31" download>Download as CSV</a></p></section>'
    )
    with translation.override("es"):
        assert '<th scope="row">Total</th>' in statistics_tables([table], "")
        assert 'href="/statistics/country.csv" download>Descargar en CSV</a>' in (
            statistics_tables([table], "")
        )


def test_facet_fieldsets_escape_values_and_labels_and_mark_the_chosen():
    facets = [
        {
            "name": "country",
            "title": "País",
            "values": [
                {"value": "PER", "label": "Perú", "count": 3, "checked": True},
                {"value": '"><b>', "label": PAYLOAD, "count": 1, "checked": False},
            ],
        },
        {"name": "sdg", "title": "ODS", "values": []},
    ]
    assert facet_fieldsets(facets) == (
        "<fieldset><legend>País</legend><ul>"
        '<li><label><input type="checkbox" name="country" value="PER" checked> Perú '
        '<span class="count">(3)</span></label></li>'
        '<li><label><input type="checkbox" name="country" value="&quot;&gt;&lt;b&gt;"> '
        f'{ESCAPED} <span class="count">(1)</span></label></li></ul></fieldset>'
    )


def _card(**values):
    return {
        "kind": "offer",
        "kind_label": "Oferta",
        "country": "Perú",
        "country_url": "/countries/PER/",
        "institution": "Agencia",
        "url": "/listings/7/",
        "language": "es",
        "heading": "Agua",
        "snippet": "Resumen",
        "areas": "Otra",
        **values,
    }


def test_listing_cards_escape_text_and_keep_a_highlight():
    html = listing_cards(
        [
            _card(
                institution=PAYLOAD,
                heading=mark_safe("Agua <mark>potable</mark>"),  # as text.highlight makes it
                snippet=PAYLOAD,
                areas="Salud & agua",
            ),
            _card(country="", country_url="", areas="", kind="need", kind_label="Necesidad"),
        ]
    )
    assert html == (
        '<li class="listing-card"><p class="meta"><span class="kind kind-offer">Oferta</span>'
        f' · <a href="/countries/PER/">Perú</a> · {ESCAPED}</p>'
        '<h2><a href="/listings/7/" lang="es">Agua <mark>potable</mark></a></h2>'
        f'<p lang="es">{ESCAPED}</p><p class="tags">Salud &amp; agua</p></li>'
        '<li class="listing-card"><p class="meta"><span class="kind kind-need">Necesidad</span>'
        ' · Agencia</p><h2><a href="/listings/7/" lang="es">Agua</a></h2>'
        '<p lang="es">Resumen</p></li>'
    )


def _match(**values):
    return Match(
        **{
            "listing": MatchedListing(7, PAYLOAD, "en", "Agencia & Co"),
            "score": 9.0,
            "shared_focus_areas": [1, 2],
            "shared_sdgs": [6, 13],
            "beneficiary_fit": True,
            "same_language": True,
            "text_similarity": 0.1,
            **values,
        }
    )


@pytest.mark.parametrize(
    ("language", "reasons"),
    [
        (
            "en",
            "2 focus areas in common|Same SDGs: 6, 13|Beneficiaries fit|Same language"
            "|Similar wording",
        ),
        (
            "es",
            "2 áreas de enfoque en común|Mismos ODS: 6, 13|Beneficiarios compatibles"
            "|Mismo idioma|Redacción similar",
        ),
    ],
)
def test_match_items_give_the_reasons_in_the_reader_language(language, reasons):
    with translation.override(language):
        html = match_items([_match()])
    items = "".join(f"<li>{reason}</li>" for reason in reasons.split("|"))
    assert html == (
        f'<li><a href="/listings/7/" lang="en">{ESCAPED}</a> (Agencia &amp; Co)'
        f'<ul class="reasons">{items}</ul></li>'
    )


def test_match_items_name_only_the_reasons_a_match_has():
    html = match_items(
        [
            _match(
                shared_focus_areas=[3],
                shared_sdgs=[],
                beneficiary_fit=False,
                same_language=False,
                text_similarity=0.0,
            )
        ]
    )
    assert html.endswith('<ul class="reasons"><li>1 focus area in common</li></ul></li>')


@pytest.mark.django_db
def test_a_need_page_shows_its_matches_with_their_reasons(client, peru):
    honduras = factories.AuthorityFactory(country=factories.country("HND"))
    need = factories.ListingFactory(
        institution=honduras,
        kind="need",
        title="Alerta temprana",
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[13],
    )
    offer = factories.ListingFactory(
        institution=peru,
        title="Alertas tempranas de inundaciones",
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[13],
        relations__beneficiaries=["HND"],
    )
    client.cookies["django_language"] = "es"
    page = client.get(need.get_absolute_url()).content.decode()
    assert (
        f'<li><a href="{offer.get_absolute_url()}" lang="es">{offer.title}</a> ({peru.name})'
        '<ul class="reasons"><li>1 área de enfoque en común</li><li>Mismos ODS: 13</li>'
        "<li>Beneficiarios compatibles</li><li>Mismo idioma</li>"
    ) in page


@pytest.mark.django_db
def test_listing_paths_agree_with_each_listing_url(peru):
    from exchange.models import listing_paths

    path_of = listing_paths()
    for listing in factories.ListingFactory.create_batch(2, institution=peru):
        assert path_of(listing.pk) == listing.get_absolute_url()
    assert path_of(987654321) == "/listings/987654321/"


@pytest.mark.django_db
def test_reference_names_follow_the_active_language():
    from exchange.selectors import reference

    peru = factories.country("PER")
    for language, name in (("es", "Perú"), ("en", "Peru"), ("es", "Perú"), ("fr", "Pérou")):
        with translation.override(language):
            names = reference().names()
            assert names.countries[peru.pk] == name
            assert names.sdgs[6] == str(reference().sdgs[6])


@pytest.mark.django_db
def test_reference_names_work_on_reference_data_read_back_from_the_cache():
    """The names are kept beside the fields: reference data pickled by the code before them
    (read back from the cache after a deployment) has none, and still names."""
    import pickle

    from exchange.selectors import Reference, reference

    fresh = reference()
    pickled = pickle.dumps(Reference(fresh.countries, fresh.focus_areas, fresh.sdgs))
    old = pickle.loads(pickled)  # noqa: S301 - our own bytes, as the cache gives them back
    assert "_names" not in old.__dict__
    with translation.override("pt"):
        assert old.names().countries == {pk: c.name_pt for pk, c in fresh.countries.items()}


@pytest.mark.django_db
def test_listing_facts_in_the_reader_language(client, peru):
    import datetime

    listing = factories.ListingFactory(
        institution=peru,
        modality="triangular",
        duration_months=1,
        cost_sharing="Pasajes\n<b>alojamiento</b>",
        published_at=datetime.datetime(2024, 3, 5, 15, tzinfo=datetime.UTC),
        review_by=datetime.date(2031, 6, 30),
    )
    client.cookies["django_language"] = "es"
    page = client.get(listing.get_absolute_url()).content.decode()
    for term, value in {
        "Modalidad": "Triangular",
        "Duración": "1 mes",
        "Distribución de costos": "Pasajes<br>&lt;b&gt;alojamiento&lt;/b&gt;",
        "Publicada": '<time datetime="2024-03-05T15:00:00+00:00">5 de marzo de 2024</time>',
        "Revisar antes del": "30 de junio de 2031",
    }.items():
        assert f"<dt>{term}</dt><dd>{value}</dd>" in page, term
