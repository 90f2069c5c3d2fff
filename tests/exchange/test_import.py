"""Import of national catalogues from CSV and XLSX: reading files safely, mapping columns,
previewing errors by row and column, all-or-nothing writes, re-imports, the Celery path and
who may import."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange import imports, tabular
from exchange.models import ImportJob, ImportMapping, Listing, ListingRevision
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = [
    "external_ref",
    "kind",
    "title",
    "summary",
    "description",
    "language",
    "focus_areas",
    "sdgs",
    "beneficiary_countries",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path


def row(ref: str, **values) -> list[str]:
    base = {
        "external_ref": ref,
        "kind": "offer",
        "title": f"Alerta temprana ante inundaciones {ref}",
        "summary": "Asistencia técnica para instalar alertas tempranas en cuencas.",
        "description": "Pasantías y **misiones de expertos**.",
        "language": "es",
        "focus_areas": "sustainable-development-environment; other",
        "sdgs": "11; 13",
        "beneficiary_countries": "BOL; ECU",
    }
    base.update(values)
    return [base[name] for name in HEADER]


def csv_bytes(rows, *, header=HEADER, encoding="utf-8-sig", delimiter=",") -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(data: bytes, name: str = "catalogo.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def start(by, data, *, name="catalogo.csv", kind="offer", institution=None) -> ImportJob:
    return imports.import_start(
        by=by, upload=upload(data, name), kind=kind, institution=institution
    )


def mapped(by, data, **kwargs) -> ImportJob:
    job = start(by, data, **kwargs)
    return imports.import_map(job=job, by=by, mapping=job.mapping)


def run(by, data, **kwargs) -> ImportJob:
    """Upload, map as guessed, preview and confirm: the whole flow without the web pages."""
    job = mapped(by, data, **kwargs)
    preview = imports.import_preview(job=job, by=by)
    assert preview.invalid == 0, job.errors
    return imports.import_confirm(job=job, by=by)


# --- Reading files ---------------------------------------------------------------------------


def test_csv_with_bom_semicolons_and_blank_rows():
    data = csv_bytes(
        [row("A"), ["", "", ""], row("B", title="Título; con punto y coma")], delimiter=";"
    )
    table = tabular.read_table(data)
    assert (table.format, table.headers) == ("csv", HEADER)
    assert [(number, cells[0], cells[2]) for number, cells in table.rows] == [
        (2, "A", "Alerta temprana ante inundaciones A"),
        (4, "B", "Título; con punto y coma"),
    ]


def test_csv_without_bom_and_utf16():
    assert tabular.read_table(csv_bytes([row("A")], encoding="utf-8")).rows[0][1][0] == "A"
    utf16 = tabular.read_table(csv_bytes([row("Ñ")], encoding="utf-16", delimiter="\t"))
    assert utf16.rows[0][1][0] == "Ñ"


def test_xlsx_cells_become_text():
    import datetime

    data = xlsx_bytes([["R-1", 6.0, datetime.datetime(2027, 3, 1), None, "  x  "]])
    table = tabular.read_table(data)
    assert table.format == "xlsx"
    assert table.rows == [(2, ["R-1", "6", "2027-03-01", "", "x"])]


def test_a_file_in_windows_1252_is_refused_with_a_clear_message():
    data = csv_bytes([row("A", title="Gestión")], encoding="cp1252")
    with pytest.raises(ValidationError) as error:
        tabular.read_table(data)
    assert error.value.code == "encoding"
    assert "is not encoded in UTF-8" in error.value.messages[0]
    assert "CSV UTF-8" in error.value.messages[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "This is not a CSV or XLSX file."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", "This is not a CSV or XLSX file."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel 97-2003 files (.xls)"),
        ("zip", "This zip file is not an Excel workbook."),
        (b"PK\x03\x04broken", "This is not a CSV or XLSX file."),
        (b"", "The file is empty."),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_by_content(data, message):
    if data == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "hello")
        data = buffer.getvalue()
    with pytest.raises(ValidationError) as error:
        tabular.read_table(data)
    assert error.value.messages[0].startswith(message)


def _zip_bomb() -> bytes:
    """A small XLSX whose sheet inflates to 300 MB of one repeated row."""
    workbook = xlsx_bytes([row("A")])
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with bomb.open(item.filename, "w", force_zip64=True) as sheet:
                    sheet.write(
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    )
                    chunk = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
                    for _ in range(300):
                        sheet.write(chunk)
                    sheet.write(b"</sheetData></worksheet>")
            else:
                bomb.writestr(item, source.read(item.filename))
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(monkeypatch):
    data = _zip_bomb()
    assert len(data) < 2 * 1024 * 1024

    def fail(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", fail)
    with pytest.raises(ValidationError) as error:
        tabular.read_table(data)
    assert error.value.code == "zip_bomb"


def _zip_with_a_bad_name(parts: dict[str, str]) -> bytes:
    """A zip whose last entry is marked UTF-8 but is not: zipfile raises UnicodeDecodeError,
    not BadZipFile, on opening it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        archive.writestr("xl/hojá.xml", "<x/>")
    return buffer.getvalue().replace("hojá".encode(), b"hoj\xff\xfe")


def test_a_damaged_workbook_is_refused_with_a_message():
    data = _zip_with_a_bad_name({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<w/>"})
    with pytest.raises(ValidationError) as error:
        tabular.read_table(data)
    assert error.value.code == "format"


def test_a_hundred_thousand_empty_rows_are_skipped():
    data = csv_bytes([row("A"), *([["", "", "", ""]] * 100_000), row("B")])
    table = tabular.read_table(data)
    assert [cells[0] for _number, cells in table.rows] == ["A", "B"]
    assert table.rows[1][0] == 100_003


def test_too_many_rows_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationError) as error:
        tabular.read_table(csv_bytes([row(str(n)) for n in range(4)]))
    assert error.value.messages == [
        "The file has more than 3 rows. Split it into files of at most 3 rows."
    ]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("plain = fine", "plain = fine"),
        ("", ""),
    ],
)
def test_formulas_are_neutralised_and_restored(text, written):
    assert tabular.neutralise(text) == written
    assert tabular.unneutralise(written) == text


# --- Upload, mapping, preview ----------------------------------------------------------------


def test_upload_keeps_the_file_and_guesses_the_mapping(focal_point, peru):
    header = ["Referencia", "Título", "Resumen", "Descripción", "Idioma", "Áreas", "Otra"]
    data = csv_bytes([["R1", "t", "s", "d", "es", "other", "x"]], header=header)
    job = start(focal_point, data)
    assert (job.institution, job.format, job.total, job.headers) == (peru, "csv", 1, header)
    assert job.mapping["title"] == "Título"
    assert job.mapping["summary"] == "Resumen"
    assert job.mapping["language"] == "Idioma"
    assert job.mapping["external_ref"] == "Referencia"  # the translated column label
    with job.file.open("rb") as stored:
        assert tabular.Table.from_json(stored.read()) == tabular.read_table(data)


def test_the_mapping_is_remembered_for_the_institution(focal_point, delegate, peru):
    header = ["Ref", "Nombre", "Resumen", "Texto", "Lengua", "Temas"]
    data = csv_bytes([["R1", "t", "s", "d", "es", "other"]], header=header)
    job = start(focal_point, data)
    chosen = {
        "external_ref": "Ref",
        "title": "Nombre",
        "summary": "Resumen",
        "description": "Texto",
        "language": "Lengua",
        "focus_areas": "Temas",
    }
    imports.import_map(job=job, by=focal_point, mapping=chosen)
    assert ImportMapping.objects.get(institution=peru).mapping["title"] == "Nombre"
    again = start(delegate, data)
    assert {code: again.mapping[code] for code in chosen} == chosen
    assert again.mapping["sdgs"] == ""


def test_the_mapping_needs_the_required_fields(focal_point):
    job = start(focal_point, csv_bytes([row("A")]))
    with pytest.raises(ValidationError) as error:
        imports.import_map(
            job=job, by=focal_point, mapping={**job.mapping, "title": "", "summary": "nope"}
        )
    assert error.value.message_dict == {
        "title": ["Choose the column that holds this field."],
        "summary": ["The file has no column “nope”."],
    }


def test_the_preview_shows_every_error_against_its_row_and_column(focal_point):
    data = csv_bytes(
        [
            row("A"),
            row("B", beneficiary_countries="BOL; XXX", sdgs="6; 42"),
            row("C", focus_areas="water-magic", title=""),
            row("A", language="klingon"),
            row("D", summary="=1+1", kind="gift"),
        ]
    )
    job = mapped(focal_point, data)
    preview = imports.import_preview(job=job, by=focal_point)
    assert (preview.total, preview.valid, preview.invalid) == (5, 1, 4)
    assert sorted((e["row"], e["field"], e["messages"][0]) for e in job.errors) == [
        (3, "beneficiary_countries", "Unknown country: XXX (use ISO codes)."),
        (3, "sdgs", "Unknown Sustainable Development Goal: 42 (use 1 to 17)."),
        (4, "focus_areas", "Unknown focus area: water-magic."),
        (4, "title", "This field cannot be blank."),
        (5, "external_ref", "This external reference appears twice in the file."),
        (5, "language", "“klingon” is not one of: en, es, pt, fr."),
        (6, "kind", "“gift” is not one of: offer, need."),
        (6, "summary", "This cell holds a formula; enter its value instead."),
    ]
    # Rows with errors come first in the table, each error in its cell.
    assert [shown.number for shown in preview.rows] == [3, 4, 5, 6, 2]
    cells = {code: errors for code, _text, errors in preview.rows[0].cells}
    assert cells["sdgs"] == ["Unknown Sustainable Development Goal: 42 (use 1 to 17)."]
    assert cells["title"] == []
    assert preview.rows[-1].outcome == ""
    with pytest.raises(ValidationError):
        imports.import_confirm(job=job, by=focal_point)
    assert Listing.objects.count() == 0


def test_formula_cells_of_a_workbook_are_refused(focal_point):
    job = mapped(focal_point, xlsx_bytes([row("A", summary="=1+1")]), name="catalogo.xlsx")
    imports.import_preview(job=job, by=focal_point)
    assert job.errors == [
        {
            "row": 2,
            "field": "summary",
            "messages": ["This cell holds a formula; enter its value instead."],
        }
    ]


def test_a_header_with_a_repeated_name_is_refused(focal_point):
    with pytest.raises(ValidationError) as error:
        start(focal_point, csv_bytes([row("A")], header=[*HEADER[:-1], "title"]))
    assert error.value.message_dict == {
        "file": ["The column “title” appears twice in the header row."]
    }


def test_names_and_codes_in_any_language_are_understood(focal_point):
    data = csv_bytes(
        [
            row(
                "A",
                kind="Oferta",
                language="Spanish",
                focus_areas="other, sustainable-development-environment",
                beneficiary_countries="Bolivia; pe",
                sdgs="6",
            )
        ]
    )
    run(focal_point, data)
    listing = Listing.objects.get()
    assert (listing.kind, listing.language, listing.sdg_numbers) == ("offer", "es", [6])
    assert sorted(c.iso3 for c in listing.beneficiary_countries.all()) == ["BOL", "PER"]
    assert len(listing.focus_area_ids) == 2


# --- Writing ---------------------------------------------------------------------------------


def test_an_import_creates_drafts_and_a_repeat_changes_nothing(focal_point, peru):
    data = xlsx_bytes([row("A"), row("B", kind="need", sdgs="")])
    job = run(focal_point, data, name="catalogo.xlsx")
    assert (job.status, job.done, job.outcomes) == (
        "done",
        2,
        {"created": 2, "updated": 0, "revision": 0, "unchanged": 0},
    )
    listings = {listing.external_ref: listing for listing in Listing.objects.all()}
    assert sorted(listings) == ["A", "B"]
    a, b = listings["A"], listings["B"]
    assert (a.status, a.institution, a.created_by, a.kind, b.kind) == (
        "draft",
        peru,
        focal_point,
        "offer",
        "need",
    )
    assert (a.sdg_numbers, b.sdg_numbers) == ([11, 13], [])
    assert sorted(c.iso3 for c in a.beneficiary_countries.all()) == ["BOL", "ECU"]
    assert a.search_vector is not None

    again = run(focal_point, data, name="catalogo.xlsx")
    assert again.outcomes == {"created": 0, "updated": 0, "revision": 0, "unchanged": 2}
    assert Listing.objects.count() == 2


def test_a_changed_file_updates_drafts_and_proposes_revisions(focal_point, peru):
    factories.ListingFactory(
        institution=peru,
        external_ref="P",
        relations__focus_areas=["other"],
        relations__sdgs=[17],
    )
    run(focal_point, csv_bytes([row("A")]))
    job = run(
        focal_point,
        csv_bytes([row("A", title="Nuevo título"), row("P", title="Cambio publicado")]),
    )
    assert job.outcomes == {"created": 0, "updated": 1, "revision": 1, "unchanged": 0}
    assert Listing.objects.get(external_ref="A").title == "Nuevo título"
    assert ListingRevision.objects.get().data["title"] == "Cambio publicado"
    assert Listing.objects.get(external_ref="P").title != "Cambio publicado"


def test_one_bad_row_writes_nothing(focal_point):
    job = mapped(focal_point, csv_bytes([row(str(n)) for n in range(20)] + [row("X", language="")]))
    preview = imports.import_preview(job=job, by=focal_point)
    assert (preview.valid, preview.invalid) == (20, 1)
    assert job.errors == [
        {"row": 22, "field": "language", "messages": ["This field cannot be blank."]}
    ]
    assert Listing.objects.count() == 0


def test_a_file_that_became_invalid_before_it_ran_fails_whole(focal_point, peru):
    job = mapped(focal_point, csv_bytes([row("A"), row("B")]))
    imports.import_preview(job=job, by=focal_point)
    # Between preview and confirm, B was submitted for review: the import cannot change it.
    factories.ListingFactory(institution=peru, external_ref="B", status="submitted")
    job = imports.import_confirm(job=job, by=focal_point)
    assert job.status == "failed"
    assert job.errors == [
        {
            "row": 3,
            "field": "external_ref",
            "messages": ["This listing is submitted for review; an import cannot change it now."],
        }
    ]
    assert Listing.objects.filter(external_ref="A").count() == 0


def test_a_large_file_runs_as_a_celery_task_with_progress(
    focal_point, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_ASYNC_ROWS = 5
    settings.IMPORT_PROGRESS_STEP = 1
    job = mapped(focal_point, csv_bytes([row(f"R{n}") for n in range(12)]))
    imports.import_preview(job=job, by=focal_point)
    seen = []
    original = cache.set

    def spy(key, value, *args, **kwargs):
        if key == imports.progress_key(job):
            seen.append(value)
        return original(key, value, *args, **kwargs)

    monkeypatch.setattr(imports.cache, "set", spy)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = imports.import_confirm(job=job, by=focal_point)
        assert queued.status == "queued"
        assert Listing.objects.count() == 0
    assert len(callbacks) == 1
    assert seen == [12]
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 12, 12)
    assert job.outcomes["created"] == 12
    assert imports.import_progress(job) == 12
    assert Listing.objects.count() == 12
    # A second delivery of the task (acks_late) finds the job done and leaves it.
    from exchange.tasks import task_import_run

    assert task_import_run.delay(job_id=job.pk).get() == "done"
    assert Listing.objects.count() == 12


def test_progress_is_read_from_the_cache_while_running(focal_point):
    job = mapped(focal_point, csv_bytes([row("A"), row("B")]))
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    job.refresh_from_db()
    cache.set(imports.progress_key(job), 1)
    assert imports.import_progress(job) == 1


def test_an_oversize_upload_is_refused(focal_point, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationError) as error:
        start(focal_point, csv_bytes([row("A")]))
    assert error.value.message_dict == {"file": ["The file is larger than 0 MB."]}
    assert ImportJob.objects.count() == 0


def test_the_secretariat_imports_for_any_institution(secretariat, argentina):
    job = run(secretariat, csv_bytes([row("A", kind="need")]), institution=argentina)
    listing = Listing.objects.get()
    assert (job.institution, listing.institution, listing.created_by, listing.kind) == (
        argentina,
        argentina,
        secretariat,
        "need",
    )


def test_a_partner_imports_offers_but_not_needs(partner):
    job = mapped(partner, csv_bytes([row("A"), row("B", kind="need")]))
    preview = imports.import_preview(job=job, by=partner)
    assert job.errors == [
        {"row": 3, "field": "kind", "messages": ["Partners publish offers, not needs."]}
    ]
    assert preview.valid == 1


@pytest.mark.parametrize("role", ["board_member", "mission_liaison", "pending_partner"])
def test_roles_that_do_not_import(role_users, role):
    with pytest.raises(PermissionDenied):
        start(role_users[role], csv_bytes([row("A")]), institution=factories.AuthorityFactory())


def test_another_countrys_focal_point_cannot_use_a_job(focal_point, other_focal_point):
    job = start(focal_point, csv_bytes([row("A")]))
    with pytest.raises(PermissionDenied):
        imports.import_map(job=job, by=other_focal_point, mapping=job.mapping)
    with pytest.raises(PermissionDenied):
        start(other_focal_point, csv_bytes([row("A")]), institution=focal_point.institution)


# --- The pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("focal_point", 200),
        ("delegate", 200),
        ("partner", 200),
        ("secretariat", 200),
        ("other_focal_point", 200),
        ("board_member", 403),
        ("mission_liaison", 403),
        ("pending_partner", 403),
    ],
)
def test_who_opens_the_import_page(client, role_users, other_focal_point, role, status):
    user = other_focal_point if role == "other_focal_point" else role_users[role]
    client.force_login(user)
    assert client.get(reverse("exchange:import_start")).status_code == status


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("exchange:import_start"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_job_of_another_institution_is_not_found(client, focal_point, other_focal_point):
    job = start(focal_point, csv_bytes([row("A")]))
    client.force_login(other_focal_point)
    for name in ("import_status", "import_mapping", "import_preview"):
        assert client.get(reverse(f"exchange:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("exchange:import_confirm", args=[job.pk])).status_code == 404


def test_the_whole_flow_through_the_pages(client, focal_point):
    client.force_login(focal_point)
    response = client.post(
        reverse("exchange:import_start"),
        {"file": upload(csv_bytes([row("A"), row("B", sdgs="99")])), "kind": "offer"},
    )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("exchange:import_mapping", args=[job.pk])
    page = client.get(response["Location"])
    assert page.context["form"]["title"].value() == "title"
    response = client.post(response["Location"], job.mapping)
    assert response["Location"] == reverse("exchange:import_preview", args=[job.pk])
    page = client.get(response["Location"])
    assert page.context["preview"].invalid == 1
    assert "Unknown Sustainable Development Goal: 99" in page.content.decode()
    assert "Confirm the import" not in page.content.decode()

    client.post(
        reverse("exchange:import_start"),
        {"file": upload(csv_bytes([row("A"), row("B")])), "kind": "offer"},
    )
    job = ImportJob.objects.order_by("-pk").first()
    client.post(reverse("exchange:import_mapping", args=[job.pk]), job.mapping)
    page = client.get(reverse("exchange:import_preview", args=[job.pk]))
    assert "2 new listings, saved as drafts" in page.content.decode()
    response = client.post(reverse("exchange:import_confirm", args=[job.pk]))
    assert response["Location"] == job.get_absolute_url()
    page = client.get(response["Location"])
    assert "2 new listings, saved as drafts" in page.content.decode()
    assert Listing.objects.filter(status="draft").count() == 2


def test_a_bad_upload_is_explained_on_the_form(client, focal_point):
    client.force_login(focal_point)
    response = client.post(
        reverse("exchange:import_start"),
        {"file": upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "catalogo.csv"), "kind": "offer"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "This is not a CSV or XLSX file. Upload a spreadsheet saved as CSV or XLSX."
    ]
    assert ImportJob.objects.count() == 0


def test_the_status_page_polls_while_running_and_has_a_refresh_link(client, focal_point):
    job = mapped(focal_point, csv_bytes([row("A")]))
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    client.force_login(focal_point)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert f'href="{job.get_absolute_url()}">Refresh</a>' in page
    assert "<progress" in page
    partial = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="import-progress"')


@pytest.mark.parametrize("language", ["en", "es"])
def test_templates_to_fill_in(client, focal_point, language):
    client.force_login(focal_point)
    client.cookies["django_language"] = language
    response = client.get(
        reverse("exchange:import_template", args=["xlsx"]), headers={"Accept-Language": language}
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    listings, values = workbook.worksheets
    assert next(listings.iter_rows(values_only=True)) == tuple(t.code for t in imports.TARGETS)
    rows = list(values.iter_rows(values_only=True))
    assert (
        "modality",
        None,
        None,
        "south_south",
        "Sur-Sur" if language == "es" else "South-South",
    ) in rows
    assert any(r[0] == "beneficiary_countries" and r[3] == "PER" for r in rows)
    csv_template = client.get(reverse("exchange:import_template", args=["csv"])).content
    assert csv_template.decode("utf-8-sig").strip() == ",".join(t.code for t in imports.TARGETS)
    assert (
        b"sustainable-development-environment"
        in client.get(reverse("exchange:import_values")).content
    )


@pytest.mark.parametrize("jobs", [1, 3])
def test_import_page_queries_are_constant(client, focal_point, jobs, django_assert_num_queries):
    for n in range(jobs):
        start(focal_point, csv_bytes([[f"R{n}", "t", "s", "d", "es", "other", "x"]]))
    client.force_login(focal_point)
    with django_assert_num_queries(5):
        page = client.get(reverse("exchange:import_start"))
    assert len(page.context["jobs"]) == jobs


@pytest.mark.parametrize("jobs", [1, 6])
def test_the_secretariat_follows_imports_in_the_admin(
    client, secretariat, board_member, focal_point, django_assert_num_queries, jobs
):
    """Read only: the list (constant queries), one import's columns, mapping, outcomes and
    errors; no adding, changing or deleting; board members read, publishers do not."""
    for n in range(jobs):
        run(focal_point, csv_bytes([row(f"ADM-{n}")]), name=f"catalogo-{n}.csv")
    changelist = reverse("admin:exchange_importjob_changelist")
    client.force_login(secretariat)
    client.get(changelist)
    # session, user, MFA check, counts and rows of the change list (without the errors and
    # outcomes), the date hierarchy (2), the format filter
    with django_assert_num_queries(9) as captured:
        response = client.get(changelist)
    assert response.context["cl"].result_count == jobs
    rows = next(q["sql"] for q in captured.captured_queries if 'importjob"."id"' in q["sql"])
    assert '"errors"' not in rows
    job = ImportJob.objects.order_by("pk").first()
    page = client.get(reverse("admin:exchange_importjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert "catalogo-0.csv" in page.content.decode()
    assert client.get(reverse("admin:exchange_importjob_add")).status_code == 403
    delete = reverse("admin:exchange_importjob_delete", args=[job.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ImportJob.objects.count() == jobs
    client.force_login(board_member)
    assert client.get(changelist).status_code == 200
    client.force_login(focal_point)
    assert client.get(changelist).status_code == 302  # to the admin's sign-in: not staff
