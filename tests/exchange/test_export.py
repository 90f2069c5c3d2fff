"""Exports of listings as CSV, XLSX and JSON: one column set, codes and translated labels,
formulas neutralised, constant query count, the catalogue's filters, and a round trip
through the import."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange import catalogue, exports, imports, selectors
from exchange.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

COLUMNS = [
    "id",
    "kind",
    "title",
    "summary",
    "description",
    "language",
    "country",
    "country_name",
    "institution",
    "institution_name",
    "focus_areas",
    "focus_area_names",
    "sdgs",
    "sdg_names",
    "modality",
    "modality_label",
    "cooperation_type",
    "cooperation_type_label",
    "stage",
    "stage_label",
    "beneficiary_countries",
    "beneficiary_country_names",
    "external_ref",
    "status",
    "created",
    "updated",
    "url",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def listing(peru):
    return factories.ListingFactory(
        institution=peru,
        title='=HYPERLINK("http://evil.example","clic")',
        summary="+51 municipios; -20 % de pérdidas",
        external_ref="APCI-7",
        relations__focus_areas=["sustainable-development-environment", "other"],
        relations__sdgs=[6, 13],
        relations__beneficiaries=["BOL", "ECU"],
    )


def content(export: exports.Export) -> bytes:
    if isinstance(export.content, bytes):
        return export.content
    return "".join(export.content).encode()


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_the_columns_codes_and_labels_in_the_language(listing):
    export = exports.export_listings(
        Listing.objects.all(), "csv", language="es", base_url="https://cooperanet.example"
    )
    assert (export.content_type, export.filename[-4:]) == ("text/csv; charset=utf-8", ".csv")
    data = content(export)
    assert data.startswith(b"\xef\xbb\xbf")
    [row] = csv_rows(data)
    assert list(row) == COLUMNS
    areas = sorted(
        [
            factories.focus_area("sustainable-development-environment"),
            factories.focus_area("other"),
        ],
        key=lambda area: area.pk,
    )
    assert {key: row[key] for key in COLUMNS if key not in ("created", "updated")} == {
        "id": str(listing.pk),
        "kind": "offer",
        "title": '\'=HYPERLINK("http://evil.example","clic")',
        "summary": "'+51 municipios; -20 % de pérdidas",
        "description": listing.description,
        "language": "es",
        "country": "PER",
        "country_name": "Perú",
        "institution": str(listing.institution_id),
        "institution_name": "Cooperation Authority of Peru",
        "focus_areas": "; ".join(area.slug for area in areas),
        "focus_area_names": "; ".join(area.name_es for area in areas),
        "sdgs": "6; 13",
        "sdg_names": "Agua Limpia y Saneamiento; Acción por el Clima",
        "modality": "south_south",
        "modality_label": "Sur-Sur",
        "cooperation_type": "technical_assistance",
        "cooperation_type_label": "Asistencia técnica",
        "stage": "in_execution",
        "stage_label": "En ejecución",
        "beneficiary_countries": "BOL; ECU",
        "beneficiary_country_names": "Bolivia; Ecuador",
        "external_ref": "APCI-7",
        "status": "published",
        "url": f"https://cooperanet.example/listings/{listing.pk}/",
    }


def test_json_has_lists_and_no_neutralising_quote(listing):
    [record] = json.loads(
        content(exports.export_listings(Listing.objects.all(), "json", language="en"))
    )
    assert list(record) == COLUMNS
    assert record["title"] == listing.title
    assert (record["sdgs"], record["beneficiary_countries"]) == ([6, 13], ["BOL", "ECU"])
    assert record["modality_label"] == "South-South"
    assert record["url"] == f"/listings/{listing.pk}/"


def test_xlsx_neutralises_formulas_and_keeps_the_columns(listing):
    data = content(exports.export_listings(Listing.objects.all(), "xlsx", language="fr"))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert list(header) == COLUMNS
    values = dict(zip(header, row, strict=True))
    assert values["title"] == '\'=HYPERLINK("http://evil.example","clic")'
    assert sheet.cell(row=2, column=3).data_type == "s"
    assert values["modality_label"] == "Sud-Sud"
    assert values["sdgs"] == "6; 13"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_query_count_is_constant(peru, django_assert_num_queries, fmt):
    factories.ListingFactory(institution=peru, relations__beneficiaries=["BOL"])
    selectors.reference()
    with django_assert_num_queries(1):
        one = content(exports.export_listings(Listing.objects.all(), fmt, language="es"))
    factories.ListingFactory.create_batch(
        2, institution=factories.PartnerInstitutionFactory(), relations__sdgs=[1, 2]
    )
    with django_assert_num_queries(1):
        three = content(exports.export_listings(Listing.objects.all(), fmt, language="es"))
    assert len(three) > len(one)


def test_the_catalogue_export_is_the_filtered_view_on_all_pages(client, peru, argentina):
    factories.ListingFactory.create_batch(
        catalogue.PAGE_SIZE + 3, institution=peru, relations__focus_areas=["other"]
    )
    factories.ListingFactory(institution=argentina)
    factories.ListingFactory(institution=peru, status="draft")
    response = client.get(
        reverse("exchange:catalogue_export", args=["csv"]), {"country": "PER", "page": 2}
    )
    assert response["Content-Disposition"].startswith('attachment; filename="cooperanet-listings-')
    rows = csv_rows(b"".join(response.streaming_content))
    assert len(rows) == catalogue.PAGE_SIZE + 3
    assert {row["country"] for row in rows} == {"PER"}
    assert {row["status"] for row in rows} == {"published"}
    page = client.get(reverse("exchange:catalogue"), {"country": "PER", "page": 2})
    assert (
        f'href="{reverse("exchange:catalogue_export", args=["xlsx"])}?country=PER"'
        in page.content.decode()
    )


def test_the_catalogue_export_follows_the_text_query(client, peru):
    factories.ListingFactory(institution=peru, title="Agua potable rural")
    factories.ListingFactory(institution=peru, title="Gobierno digital")
    response = client.get(reverse("exchange:catalogue_export", args=["json"]), {"q": "agua"})
    titles = [record["title"] for record in json.loads(b"".join(response.streaming_content))]
    assert titles == ["Agua potable rural"]


def test_an_unknown_format_is_not_found(client):
    assert client.get(reverse("exchange:catalogue_export", args=["pdf"])).status_code == 404


def test_the_dashboard_export_has_drafts_of_the_own_institution(
    client, focal_point, peru, argentina
):
    factories.ListingFactory(institution=peru, status="draft", external_ref="D1")
    factories.ListingFactory(institution=argentina, status="draft", external_ref="OTHER")
    client.force_login(focal_point)
    response = client.get(reverse("exchange:my_listings_export", args=["xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[COLUMNS.index("external_ref")] for row in rows[1:]] == ["D1"]
    assert (
        client.get(reverse("exchange:my_listings")).content.count(b"/dashboard/listings/export.")
        == 3
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_reimports_unchanged(focal_point, peru, listing, fmt):
    factories.ListingFactory(
        institution=peru,
        status="draft",
        kind="need",
        external_ref="N-1",
        title="@suma de capacidades",
        description="-- línea\n\tcon tabulador\n=y fórmula",
        relations__sdgs=[],
        relations__focus_areas=["other"],
    )
    factories.ListingFactory(institution=peru, status="withdrawn", external_ref="W-'1")
    before = {row.pk: row for row in Listing.objects.all()}
    data = content(
        exports.export_listings(Listing.objects.filter(institution=peru), fmt, language="pt")
    )
    job = imports.import_start(
        by=focal_point, upload=SimpleUploadedFile(f"export.{fmt}", data), kind="offer"
    )
    assert job.mapping["title"] == "title"
    job = imports.import_map(job=job, by=focal_point, mapping=job.mapping)
    preview = imports.import_preview(job=job, by=focal_point)
    assert (preview.invalid, job.errors) == (0, [])
    job = imports.import_confirm(job=job, by=focal_point)
    assert job.outcomes == {"created": 0, "updated": 0, "revision": 0, "unchanged": 3}
    for row in Listing.objects.all():
        old = before[row.pk]
        assert (row.title, row.summary, row.description, row.updated) == (
            old.title,
            old.summary,
            old.description,
            old.updated,
        )
