"""A focal point imports its national catalogue in a real browser: uploads a CSV whose
columns have its own names, maps them, sees an error in the preview against its row and
column, uploads the corrected file (the mapping is remembered), confirms, and finds the
new drafts in its dashboard."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from exchange.models import Listing
from tests.e2e.test_accounts_flows import submit_password

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = ["Código", "Nombre", "Resumen", "Texto", "Idioma", "Áreas", "ODS", "Beneficiarios"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _csv(beneficiaries: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    writer.writerow(
        [
            "APCI-101",
            "Alerta temprana ante inundaciones",
            "Asistencia técnica en sistemas de alerta temprana.",
            "Pasantías y misiones de expertos.",
            "es",
            "sustainable-development-environment",
            "11; 13",
            "BOL",
        ]
    )
    writer.writerow(
        [
            "APCI-102",
            "Gobierno digital municipal",
            "Intercambio de expertos en trámites en línea.",
            "Misiones técnicas y pasantías.",
            "es",
            "other",
            "16",
            beneficiaries,
        ]
    )
    return buffer.getvalue().encode("utf-8")


def _upload(page: Page, data: bytes) -> None:
    page.goto("/dashboard/listings/")
    page.get_by_role("link", name="Import from a file").click()
    page.get_by_label("File (CSV or XLSX)").set_input_files(
        {"name": "catalogo.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Columns of the file")).to_be_visible()


def test_import_with_a_corrected_file(page: Page, live_server, focal_point, peru):
    submit_password(page, focal_point.email)
    _upload(page, _csv(beneficiaries="BOL; XYZ"))

    # "Resumen" and "Idioma" are recognised; the other columns are chosen by hand.
    expect(page.get_by_label("Summary")).to_have_value("Resumen")
    expect(page.get_by_label("Language of the content")).to_have_value("Idioma")
    page.get_by_label("External reference").select_option("Código")
    page.get_by_label("Title").select_option("Nombre")
    page.get_by_label("Description").select_option("Texto")
    page.get_by_label("Focus areas").select_option("Áreas")
    page.get_by_label("Sustainable Development Goals").select_option("ODS")
    page.get_by_label("Beneficiary countries").select_option("Beneficiarios")
    page.get_by_role("button", name="Check the rows").click()

    expect(page.locator(".result-count")).to_contain_text("2 rows, 1 valid, 1 with errors")
    error_row = page.locator("table.import-preview tbody tr.has-error")
    expect(error_row.locator("th")).to_have_text("3")
    expect(error_row.locator("td.cell-error")).to_contain_text("Unknown country: XYZ")
    expect(page.get_by_role("button", name="Confirm the import")).to_have_count(0)
    assert Listing.objects.count() == 0

    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("File (CSV or XLSX)").set_input_files(
        {"name": "catalogo.csv", "mimeType": "text/csv", "buffer": _csv(beneficiaries="ECU")}
    )
    page.get_by_role("button", name="Upload").click()
    # The institution's mapping from the first upload is offered again.
    expect(page.get_by_label("External reference")).to_have_value("Código")
    expect(page.get_by_label("Beneficiary countries")).to_have_value("Beneficiarios")
    page.get_by_role("button", name="Check the rows").click()

    expect(page.locator(".result-count")).to_contain_text("2 rows, 2 valid, 0 with errors")
    expect(page.locator("ul.outcomes")).to_contain_text("2 new listings, saved as drafts")
    page.get_by_role("button", name="Confirm the import").click()

    expect(page.locator("#import-progress .status")).to_have_text("Done")
    expect(page.locator("#import-progress")).to_contain_text("2 new listings, saved as drafts")
    page.get_by_role("link", name="Go to your listings").click()
    table = page.locator("main table")
    expect(table).to_contain_text("Alerta temprana ante inundaciones")
    expect(table).to_contain_text("Gobierno digital municipal")
    expect(table.locator(".status-draft")).to_have_count(2)
    assert sorted(Listing.objects.values_list("external_ref", flat=True)) == [
        "APCI-101",
        "APCI-102",
    ]
