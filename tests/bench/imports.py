"""Benchmark of the catalogue import against openpyxl reading the same file.

    python -m cooperanet.embedded -- python -m tests.bench.imports

Builds a 10,000-row XLSX in the export's column set, measures the time openpyxl alone takes
to read it (read-only, every row), then the time of our whole import of it: upload checks,
mapping, preview (parse and validate every row) and confirm (parse, validate and write the
10,000 draft listings in one transaction), and prints the ratio (target: at most 5x). A
re-import of the same file (all rows unchanged) is reported too.

Runs in its own database (``cooperanet_bench_imports``) on the same server, so development
data is untouched; each run empties its listings first and imports for a new institution.
"""

from __future__ import annotations

import io
import itertools
import statistics
import sys
import time

ROWS = 10_000
RUNS = 3
TARGET = 5.0
DATABASE = "cooperanet_bench_imports"


def _setup() -> None:
    from tests.bench.exchange import _setup as setup_database

    setup_database(0, DATABASE)
    from django.conf import settings

    settings.DEBUG = False
    # The whole file in this process: no Celery worker is part of what is measured.
    settings.IMPORT_ASYNC_ROWS = ROWS + 1
    # Start every run from the same table, not one that earlier runs grew by 20,000 rows.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE exchange_listing, exchange_listingevent, exchange_importjob CASCADE"
        )


def _workbook(rows: int) -> bytes:
    """A file as a national catalogue would send it: the export's columns, varied values."""
    import random

    from exchange import exports, tabular
    from exchange.demo import _texts
    from exchange.models import Listing
    from exchange.selectors import reference

    ref = reference()
    rng = random.Random(rows)
    texts = _texts()
    corpus = texts["offers"] + texts["needs"]
    areas = [area.slug for area in ref.focus_areas.values()]
    countries = [country.iso3 for country in ref.countries.values()]
    sheet = [list(exports.COLUMNS)]
    for n in range(rows):
        text = corpus[n % len(corpus)]
        record = {
            "id": "",
            "kind": "need" if n % 9 == 0 else "offer",
            "title": f"{text['title']} {n}",
            "summary": text["summary"],
            "description": text["description"],
            "language": text["language"],
            "country": "PER",
            "country_name": "Perú",
            "institution": "",
            "institution_name": "",
            "focus_areas": "; ".join(rng.sample(areas, rng.choice([1, 2]))),
            "focus_area_names": "",
            "sdgs": "; ".join(map(str, sorted(rng.sample(range(1, 18), 2)))),
            "sdg_names": "",
            "modality": rng.choice(Listing.Modality.values),
            "modality_label": "",
            "cooperation_type": rng.choice(Listing.CooperationType.values),
            "cooperation_type_label": "",
            "stage": rng.choice(Listing.Stage.values),
            "stage_label": "",
            "beneficiary_countries": "; ".join(rng.sample(countries, rng.choice([0, 1, 3]))),
            "beneficiary_country_names": "",
            "external_ref": f"BENCH-{n:05d}",
            "status": "",
            "created": "",
            "updated": "",
            "url": "",
        }
        sheet.append([record[name] for name in exports.COLUMNS])
    return tabular.xlsx_bytes([("listings", sheet)])


def _openpyxl_read(data: bytes) -> float:
    import openpyxl

    started = time.perf_counter()
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert count == ROWS + 1, count
    return time.perf_counter() - started


def _import(data: bytes, user, institution) -> tuple[float, str, dict]:
    """The whole import; returns its time, the time of each step and the outcomes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exchange import imports

    marks = [time.perf_counter()]
    job = imports.import_start(
        by=user,
        upload=SimpleUploadedFile("catalogue.xlsx", data),
        kind="offer",
        institution=institution,
    )
    job = imports.import_map(job=job, by=user, mapping=job.mapping)
    marks.append(time.perf_counter())
    preview = imports.import_preview(job=job, by=user)
    assert preview.invalid == 0, job.errors[:5]
    marks.append(time.perf_counter())
    job = imports.import_confirm(job=job, by=user)
    marks.append(time.perf_counter())
    assert job.status == "done", job.errors[:5]
    upload, check, write = (after - before for before, after in itertools.pairwise(marks))
    steps = f"upload {upload:.2f} s, preview {check:.2f} s, confirm {write:.2f} s"
    return marks[-1] - marks[0], steps, job.outcomes


def main() -> int:
    _setup()
    from django.conf import settings

    from accounts.models import Country, Institution, User

    settings.MEDIA_ROOT = settings.BASE_DIR / ".data" / "bench-media"
    user, _created = User.objects.get_or_create(
        email="bench-secretariat@example.org",
        defaults={"role": User.Role.SECRETARIAT, "is_staff": True},
    )
    # A new institution each run (an OAS unit: one Authority per country is allowed).
    institution = Institution.objects.create(
        name=f"Bench import {time.strftime('%Y%m%d-%H%M%S')}",
        type=Institution.Type.OAS_UNIT,
        country=Country.objects.get(iso3="PER"),
    )
    print(f"building a {ROWS:,}-row XLSX…", flush=True)
    data = _workbook(ROWS)
    print(f"  {len(data) / 1024 / 1024:.1f} MB", flush=True)
    reads = [_openpyxl_read(data) for _ in range(RUNS)]
    read = statistics.median(reads)
    print(f"openpyxl read-only, every row: {read:6.2f} s (median of {RUNS})", flush=True)
    first, steps, outcomes = _import(data, user, institution)
    print(f"import (new listings):          {first:6.2f} s  ({steps})  {outcomes}", flush=True)
    again, steps, outcomes = _import(data, user, institution)
    print(f"re-import (all unchanged):      {again:6.2f} s  ({steps})  {outcomes}", flush=True)
    ratio = first / read
    print(f"\nimport / openpyxl read: {ratio:.2f}x (target <= {TARGET:.0f}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
