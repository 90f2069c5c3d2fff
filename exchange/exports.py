"""Listings as CSV, XLSX or JSON: one column set for all three, and the import reads it back.

Codes identify (country ISO alpha-3, focus-area slugs, SDG numbers, modality and other
choice codes); the ``*_name`` and ``*_label`` columns say the same in the requested
language. Several values are separated by "; " in CSV and XLSX, and are lists in JSON.
Reference names come from ``selectors.reference()`` and the listings' array columns, so an
export costs one query (plus the cached reference data) whatever its length.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation

from exchange import selectors, tabular
from exchange.models import Listing

COLUMNS = (
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
)
LIST_COLUMNS = frozenset(
    {
        "focus_areas",
        "focus_area_names",
        "sdgs",
        "sdg_names",
        "beneficiary_countries",
        "beneficiary_country_names",
    }
)
SEPARATOR = "; "
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CHUNK = 2000


@dataclass(frozen=True)
class Export:
    """A file to send: ``content`` is bytes, or an iterator of str for a streaming response."""

    content: bytes | Iterator[str]
    content_type: str
    filename: str


def _names(language: str) -> dict:
    """Names and labels in ``language``, read once per export."""
    ref = selectors.reference()
    with translation.override(language):
        return {
            "countries": {pk: (c.iso3, c.name) for pk, c in ref.countries.items()},
            "focus_areas": {pk: (a.slug, a.name) for pk, a in ref.focus_areas.items()},
            "sdgs": {n: (n, g.name) for n, g in ref.sdgs.items()},
            "modality": {value: str(label) for value, label in Listing.Modality.choices},
            "cooperation_type": {
                value: str(label) for value, label in Listing.CooperationType.choices
            },
            "stage": {value: str(label) for value, label in Listing.Stage.choices},
        }


def _pairs(names: dict, keys) -> tuple[list, list]:
    found = [names[key] for key in keys if key in names]
    return [code for code, _name in found], [name for _code, name in found]


def export_records(
    listings: QuerySet[Listing], *, language: str, base_url: str = ""
) -> Iterator[dict]:
    """One dict per listing with the keys of ``COLUMNS``; lists for several values."""
    names = _names(language)
    rows = listings.select_related("institution", "country").iterator(chunk_size=CHUNK)
    for listing in rows:
        areas, area_names = _pairs(names["focus_areas"], listing.focus_area_ids)
        goals, goal_names = _pairs(names["sdgs"], listing.sdg_numbers)
        beneficiaries, beneficiary_names = _pairs(names["countries"], listing.beneficiary_ids)
        country, country_name = names["countries"].get(listing.country_id, ("", ""))
        yield {
            "id": listing.pk,
            "kind": listing.kind,
            "title": listing.title,
            "summary": listing.summary,
            "description": listing.description,
            "language": listing.language,
            "country": country,
            "country_name": country_name,
            "institution": listing.institution_id,
            "institution_name": listing.institution.name,
            "focus_areas": areas,
            "focus_area_names": area_names,
            "sdgs": goals,
            "sdg_names": goal_names,
            "modality": listing.modality,
            "modality_label": names["modality"].get(listing.modality, ""),
            "cooperation_type": listing.cooperation_type,
            "cooperation_type_label": names["cooperation_type"].get(listing.cooperation_type, ""),
            "stage": listing.stage,
            "stage_label": names["stage"].get(listing.stage, ""),
            "beneficiary_countries": beneficiaries,
            "beneficiary_country_names": beneficiary_names,
            "external_ref": listing.external_ref,
            "status": listing.status,
            "created": timezone.localtime(listing.created).isoformat(),
            "updated": timezone.localtime(listing.updated).isoformat(),
            "url": base_url + listing.get_absolute_url(),
        }


def _flat(records: Iterable[dict]) -> Iterator[list]:
    yield list(COLUMNS)
    for record in records:
        yield [
            SEPARATOR.join(map(str, record[name])) if name in LIST_COLUMNS else record[name]
            for name in COLUMNS
        ]


def _json_chunks(records: Iterable[dict]) -> Iterator[str]:
    yield "["
    for index, record in enumerate(records):
        yield ("," if index else "") + json.dumps(record, ensure_ascii=False)
    yield "]"


def export_listings(
    listings: QuerySet[Listing], fmt: str, *, language: str, base_url: str = ""
) -> Export:
    """``listings`` as a file in ``fmt`` ("csv", "xlsx" or "json"), labels in ``language``.

    CSV and JSON stream (the query runs as the response is sent); XLSX is built in memory.
    ``base_url`` (e.g. ``request.build_absolute_uri("/")[:-1]``) makes the urls absolute.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    records = export_records(listings, language=language, base_url=base_url)
    filename = f"cooperanet-listings-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "csv":
        content = tabular.csv_lines(_flat(records))
    elif fmt == "json":
        content = _json_chunks(records)
    else:
        content = tabular.xlsx_bytes([("listings", _flat(records))])
    return Export(content=content, content_type=FORMATS[fmt], filename=filename)


def download(request, listings: QuerySet[Listing], fmt: str) -> HttpResponse:
    """``listings`` as a download in ``fmt``, labelled in the request's language."""
    export = export_listings(
        listings,
        fmt,
        language=request.LANGUAGE_CODE,
        base_url=request.build_absolute_uri("/")[:-1],
    )
    return export_response(export)


def export_response(export: Export) -> HttpResponse:
    """The file as a download: streamed when the content is an iterator."""
    if isinstance(export.content, bytes):
        response = HttpResponse(export.content, content_type=export.content_type)
    else:
        response = StreamingHttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
