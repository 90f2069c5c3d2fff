"""Import of a national catalogue from a CSV or XLSX file into one institution's listings.

upload (``import_start``) → column mapping (``import_map``, remembered per institution) →
preview (``import_preview``: every row converted and validated, nothing written) → confirm
(``import_confirm``). A file is all or nothing: it is written in one transaction by
``services.listings_upsert_by_ref``, only when every row is valid, and rows are matched by
their external reference, so importing the same file again changes nothing. New listings
are drafts that the publisher submits later. Files of more than ``IMPORT_ASYNC_ROWS`` rows
are written by a Celery task (``exchange.tasks.task_import_run``) whose progress the status
page shows.

Cells are converted with lookups read once per file (codes, and names in the four
languages), then each row is validated by the same model validation as the listing form
(``services._validate`` through the upsert), so an import has no rules of its own.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Institution, User
from exchange import selectors, services, tabular
from exchange.exports import FORMATS, Export
from exchange.models import ImportJob, ImportMapping, Listing
from exchange.text import fold

logger = logging.getLogger(__name__)
Status = ImportJob.Status
LANGUAGES = ("en", "es", "pt", "fr")
SPLIT = re.compile(r"[;|\n]+")


@dataclass(frozen=True)
class Target:
    """A field of a listing that a column of the file can fill."""

    code: str
    label: str
    required: bool = False
    help: str = ""
    aliases: tuple = ()  # other header names that mean this field, translated


TARGETS = (
    Target(
        "external_ref",
        gettext_lazy("External reference"),
        True,
        gettext_lazy("The listing's identifier in your national catalogue; unique per row."),
        (gettext_lazy("Reference in your national catalogue"), gettext_lazy("Reference")),
    ),
    Target(
        "kind", gettext_lazy("Kind"), False, gettext_lazy("offer or need."), (gettext_lazy("Type"),)
    ),
    Target("title", gettext_lazy("Title"), True, gettext_lazy("At most 200 characters.")),
    Target("summary", gettext_lazy("Summary"), True, gettext_lazy("At most 600 characters.")),
    Target("description", gettext_lazy("Description"), True, gettext_lazy("Markdown.")),
    Target(
        "language", gettext_lazy("Language of the content"), True, "", (gettext_lazy("Language"),)
    ),
    Target("focus_areas", gettext_lazy("Focus areas"), True, "", (gettext_lazy("Focus area"),)),
    Target(
        "sdgs",
        gettext_lazy("Sustainable Development Goals"),
        False,
        "",
        (gettext_lazy("SDG"), "SDGs"),
    ),
    Target("modality", gettext_lazy("Modality"), False),
    Target("cooperation_type", gettext_lazy("Type of cooperation"), False),
    Target("stage", gettext_lazy("Stage"), False),
    Target("beneficiary_countries", gettext_lazy("Beneficiary countries"), False),
    Target("beneficiary_regions", gettext_lazy("Beneficiary regions"), False),
    Target(
        "duration_months",
        gettext_lazy("Duration (months)"),
        False,
        gettext_lazy("A whole number."),
    ),
    Target("cost_sharing", gettext_lazy("Cost sharing"), False),
    Target("contact_name", gettext_lazy("Contact person"), False),
    Target("contact_email", gettext_lazy("Contact e-mail"), False),
    Target("review_by", gettext_lazy("Review by"), False, gettext_lazy("A date: YYYY-MM-DD.")),
)
TARGETS_BY_CODE = {target.code: target for target in TARGETS}
CHOICES = {
    "kind": Listing.Kind,
    "language": Listing.Language,
    "modality": Listing.Modality,
    "cooperation_type": Listing.CooperationType,
    "stage": Listing.Stage,
    "beneficiary_regions": Listing.Region,
}
MULTIPLE = ("focus_areas", "sdgs", "beneficiary_countries", "beneficiary_regions")


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", fold(str(text))).strip()


# --- Cells to values -------------------------------------------------------------------------


class Lookups:
    """Codes and names (in the four languages) of reference data and choices, read once."""

    def __init__(self) -> None:
        ref = selectors.reference()
        self.rows: dict[str, dict] = {"focus_areas": {}, "sdgs": {}, "beneficiary_countries": {}}
        for area in ref.focus_areas.values():
            self._add("focus_areas", area, area.slug, *_names(area))
        for number, goal in ref.sdgs.items():
            self._add("sdgs", goal, str(number), *_names(goal))
        for country in ref.countries.values():
            self._add(
                "beneficiary_countries", country, country.iso3, country.iso2, *_names(country)
            )
        self.choices: dict[str, dict[str, str]] = {}
        for name, choices in CHOICES.items():
            known = self.choices[name] = {}
            for language in LANGUAGES:
                with translation.override(language):
                    for value, label in choices.choices:
                        known[_key(label)] = value
            known.update({_key(value): value for value in choices.values})
            known.update({value: value for value in choices.values})
        self.order = {value: index for index, value in enumerate(Listing.Region.values)}

    def _add(self, name: str, row, *keys: str) -> None:
        for key in keys:
            self.rows[name][_key(key)] = row
        self.rows[name].setdefault(keys[0], row)  # the code as written: no folding needed

    def choice(self, name: str, value: str) -> str:
        if not value:
            return ""
        known = self.choices[name]
        found = known.get(value) or known.get(_key(value))
        if found is None:
            raise ValidationError(
                _("“%(value)s” is not one of: %(codes)s.")
                % {"value": value, "codes": ", ".join(CHOICES[name].values)}
            )
        return found

    def many(self, name: str, value: str) -> list:
        found, unknown = [], []
        for part in (part.strip() for part in SPLIT.split(value)):
            if not part:
                continue
            rows = self.choices[name] if name == "beneficiary_regions" else self.rows[name]
            row = rows.get(part) or rows.get(_key(part))
            if row is not None:
                found.append(row)
                continue
            # Codes never hold commas: "PER, BOL" is two codes, a name is tried whole first.
            pieces = [_key(piece) for piece in part.split(",") if piece.strip()]
            if len(pieces) > 1 and all(piece in rows for piece in pieces):
                found.extend(rows[piece] for piece in pieces)
            else:
                unknown.append(part)
        if unknown:
            messages = {
                "focus_areas": _("Unknown focus area: %(values)s."),
                "sdgs": _("Unknown Sustainable Development Goal: %(values)s (use 1 to 17)."),
                "beneficiary_countries": _("Unknown country: %(values)s (use ISO codes)."),
                "beneficiary_regions": _("Unknown region: %(values)s."),
            }
            raise ValidationError(messages[name] % {"values": ", ".join(unknown)})
        if name == "beneficiary_regions":
            return sorted(set(found), key=self.order.__getitem__)
        return list({row.pk: row for row in found}.values())

    def convert(self, code: str, value: str):
        if code in MULTIPLE:
            return self.many(code, value)
        if code in CHOICES:
            return self.choice(code, value)
        if code == "duration_months":
            if not value:
                return None
            if not value.isdigit():
                raise ValidationError(_("Enter a whole number of months."))
            return int(value)
        if code == "review_by":
            if not value:
                return None
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
        return value


def _names(row) -> tuple[str, ...]:
    return tuple(getattr(row, f"name_{language}") for language in LANGUAGES)


def convert_row(
    cells: list[str], columns: dict[str, int], lookups: Lookups, default_kind: str
) -> tuple[services.RefRow, dict[str, list[str]]]:
    """A row as a RefRow for the upsert, and the errors of cells that could not be read."""
    errors: dict[str, list[str]] = {}
    values: dict = {}
    for code, index in columns.items():
        raw = cells[index] if index < len(cells) else ""
        if tabular.is_formula(raw):
            errors[code] = [_("This cell holds a formula; enter its value instead.")]
            continue
        try:
            values[code] = lookups.convert(code, tabular.unneutralise(raw))
        except ValidationError as error:
            errors[code] = error.messages
    related = {name: values.pop(name, None) for name in ("focus_areas", "sdgs")}
    related["beneficiary_countries"] = values.pop("beneficiary_countries", None)
    kind = values.pop("kind", "") or default_kind
    ref = values.pop("external_ref", "")
    data = services.ListingData(values=values, **related)
    return services.RefRow(kind=kind, external_ref=ref, data=data), errors


# --- Mapping ---------------------------------------------------------------------------------


def _aliases() -> dict[str, str]:
    """Header names that mean a target: its code and its label in every language."""
    aliases = {}
    for language in LANGUAGES:
        with translation.override(language):
            for target in TARGETS:
                for name in (target.label, *target.aliases):
                    aliases.setdefault(_key(name), target.code)
    aliases.update({_key(target.code): target.code for target in TARGETS})
    return aliases


def guess_mapping(headers: list[str], remembered: dict[str, str]) -> dict[str, str]:
    """Target → header: the institution's last mapping where the header is still there,
    then headers named like a target."""
    mapping = {code: header for code, header in remembered.items() if header in headers}
    aliases = _aliases()
    for header in headers:
        code = aliases.get(_key(header))
        if code and code not in mapping and header not in mapping.values():
            mapping[code] = header
    return {target.code: mapping.get(target.code, "") for target in TARGETS}


def remembered_mapping(institution: Institution) -> dict[str, str]:
    saved = ImportMapping.objects.filter(institution=institution).first()
    return saved.mapping if saved else {}


# --- The steps of an import ------------------------------------------------------------------


def _require(by: User, job: ImportJob) -> None:
    if not by.has_perm("exchange.import_listings", job.institution):
        raise PermissionDenied(_("You are not allowed to do this."))


def _headers(raw: list[str]) -> list[str]:
    headers = [
        header or _("Column %(number)d") % {"number": number}
        for number, header in enumerate(raw, start=1)
    ]
    seen = set()
    for header in headers:
        if header in seen:
            raise ValidationError(
                _("The column “%(name)s” appears twice in the header row.") % {"name": header},
                code="header",
            )
        seen.add(header)
    return headers


@transaction.atomic
def import_start(
    *, by: User, upload, kind: str, institution: Institution | None = None
) -> ImportJob:
    """Check an uploaded file (size, content, encoding, rows) and keep its rows as read
    (``Table.to_json``: the later steps never parse the upload again) for mapping."""
    institution = services.upsert_institution(by, institution)
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": _("The file is larger than %(size)d MB.") % {"size": limit // (1024 * 1024)}}
        )
    data = upload.read()
    try:
        table = tabular.read_table(data)
        headers = _headers(table.headers)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    if kind not in Listing.Kind.values:
        raise ValidationError({"kind": _("Choose offer or need.")})
    name = get_valid_filename(PurePath(upload.name or "import").name)[:100] or "import"
    job = ImportJob(
        institution=institution,
        created_by=by,
        token=secrets.token_hex(16),
        filename=name,
        format=table.format,
        default_kind=kind,
        headers=headers,
        total=len(table.rows),
        mapping=guess_mapping(headers, remembered_mapping(institution)),
    )
    # The rows as read, so that preview and confirm do not parse the upload again.
    job.file.save("table.json", ContentFile(table.to_json()), save=False)
    job.save()
    return job


@transaction.atomic
def import_map(*, job: ImportJob, by: User, mapping: dict[str, str]) -> ImportJob:
    """Set which column fills which field, and remember it for the institution."""
    _require(by, job)
    if job.status not in (Status.UPLOADED, Status.MAPPED):
        raise ValidationError(_("This import can no longer be changed."))
    errors = {}
    used: dict[str, str] = {}
    for target in TARGETS:
        header = mapping.get(target.code) or ""
        if header and header not in job.headers:
            errors[target.code] = _("The file has no column “%(name)s”.") % {"name": header}
        elif header and header in used:
            errors[target.code] = _("The column “%(name)s” already fills “%(field)s”.") % {
                "name": header,
                "field": TARGETS_BY_CODE[used[header]].label,
            }
        elif target.required and not header:
            errors[target.code] = _("Choose the column that holds this field.")
        if header:
            used.setdefault(header, target.code)
    if errors:
        raise ValidationError(errors)
    job.mapping = {target.code: mapping.get(target.code) or "" for target in TARGETS}
    job.status = Status.MAPPED
    job.errors, job.outcomes = [], {}
    job.save(update_fields=["mapping", "status", "errors", "outcomes"])
    ImportMapping.objects.update_or_create(
        institution=job.institution, defaults={"mapping": job.mapping}
    )
    return job


@dataclass
class PreviewRow:
    number: int
    cells: list[tuple[str, str, list[str]]]  # (target code, cell text, errors)
    messages: list[str] = field(default_factory=list)
    outcome: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.messages) or any(errors for _code, _text, errors in self.cells)


@dataclass
class Preview:
    columns: list[tuple[str, str, str]]  # (target code, label, header)
    rows: list[PreviewRow]
    total: int
    invalid: int
    outcomes: dict[str, int]
    hidden: int

    @property
    def valid(self) -> int:
        return self.total - self.invalid


def _analyse(job: ImportJob, *, by: User, dry_run: bool, progress=None):
    """Read, convert and upsert (or only validate) every row of the job's file.

    Returns (table, converted cells, results) or raises RowErrors with every row's errors
    (conversion errors take the place of the service's on the same field).
    """
    with job.file.open("rb") as handle:
        table = tabular.Table.from_json(handle.read())
    index = _header_index(table)
    columns = {code: index[header] for code, header in job.mapping.items() if header in index}
    lookups = Lookups()
    rows, cell_errors = [], {}
    for position, (_number, cells) in enumerate(table.rows):
        row, errors = convert_row(cells, columns, lookups, job.default_kind)
        rows.append(row)
        if errors:
            cell_errors[position] = errors
    try:
        results = services.listings_upsert_by_ref(
            by=by, rows=rows, institution=job.institution, dry_run=dry_run, progress=progress
        )
    except services.RowErrors as failed:
        merged = {}
        for position in sorted(set(failed.row_errors) | set(cell_errors)):
            errors = dict(_by_field(failed.row_errors.get(position)))
            errors.update(cell_errors.get(position, {}))
            merged[position] = errors
        raise _TableErrors(table, columns, merged) from None
    if cell_errors:
        raise _TableErrors(table, columns, cell_errors)
    return table, columns, results


class _TableErrors(Exception):
    def __init__(self, table, columns, errors: dict[int, dict[str, list[str]]]):
        self.table, self.columns, self.errors = table, columns, errors

    def as_list(self) -> list[dict]:
        return [
            {"row": self.table.rows[position][0], "field": code, "messages": messages}
            for position, errors in self.errors.items()
            for code, messages in errors.items()
        ]


def _by_field(error: ValidationError | None):
    if error is None:
        return
    if hasattr(error, "error_dict"):
        for code, messages in error.message_dict.items():
            yield (code if code in TARGETS_BY_CODE else ""), messages
    else:
        yield "", error.messages


def import_preview(*, job: ImportJob, by: User) -> Preview:
    """Validate every row without writing; the job keeps the errors and the outcomes."""
    _require(by, job)
    if job.status != Status.MAPPED:
        raise ValidationError(_("Map the columns of this import first."))
    try:
        table, columns, results = _analyse(job, by=job.created_by, dry_run=True)
        errors: dict[int, dict[str, list[str]]] = {}
        outcomes = [outcome for _listing, outcome in results]
    except _TableErrors as failed:
        table, columns, errors, outcomes = failed.table, failed.columns, failed.errors, []
        job.errors = failed.as_list()
    else:
        job.errors = []
    counts = {name: outcomes.count(name) for name in services.UPSERT_OUTCOMES}
    job.total, job.outcomes = len(table.rows), counts if not errors else {}
    job.save(update_fields=["total", "errors", "outcomes"])
    return _preview(table, columns, errors, outcomes, counts)


def _preview(table, columns, errors, outcomes, counts) -> Preview:
    """Rows with errors first, then the others, up to IMPORT_PREVIEW_ROWS."""
    limit = settings.IMPORT_PREVIEW_ROWS
    order = sorted(errors) + [p for p in range(len(table.rows)) if p not in errors]
    shown = []
    for position in order[:limit]:
        number, cells = table.rows[position]
        row_errors = errors.get(position, {})
        shown.append(
            PreviewRow(
                number=number,
                cells=[
                    (code, cells[index] if index < len(cells) else "", row_errors.get(code, []))
                    for code, index in columns.items()
                ],
                messages=row_errors.get("", []),
                outcome=outcomes[position] if outcomes else "",
            )
        )
    headers = {index: header for header, index in _header_index(table).items()}
    return Preview(
        columns=[
            (code, TARGETS_BY_CODE[code].label, headers[index]) for code, index in columns.items()
        ],
        rows=shown,
        total=len(table.rows),
        invalid=len(errors),
        outcomes=counts,
        hidden=max(0, len(order) - limit),
    )


def _header_index(table) -> dict[str, int]:
    return {header: position for position, header in enumerate(_headers(table.headers))}


@transaction.atomic
def import_confirm(*, job: ImportJob, by: User) -> ImportJob:
    """Write a previewed file with no errors: now, or by a Celery task when it is large."""
    _require(by, job)
    if job.status != Status.MAPPED or job.errors or not job.outcomes:
        raise ValidationError(_("Only a previewed import without errors can be confirmed."))
    job.status = Status.QUEUED
    job.save(update_fields=["status"])
    if job.total > settings.IMPORT_ASYNC_ROWS:
        from exchange.tasks import task_import_run

        transaction.on_commit(lambda: task_import_run.delay(job_id=job.pk))
        return job
    return import_run(job_id=job.pk)


def progress_key(job: ImportJob) -> str:
    return f"exchange:import:{job.pk}:done"


def import_progress(job: ImportJob) -> int:
    """Rows written so far; live from the cache while the import's transaction is open."""
    if job.status == Status.RUNNING:
        return min(cache.get(progress_key(job), 0), job.total)
    return job.done


def import_run(*, job_id: int) -> ImportJob | None:
    """Write a confirmed import, all or nothing (the task's body; safe to run twice)."""
    job = ImportJob.objects.select_related("institution", "created_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("Import %s does not exist; nothing to run.", job_id)
        return None
    if not ImportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(status=Status.RUNNING):
        return job
    job.status = Status.RUNNING
    written, step = 0, getattr(settings, "IMPORT_PROGRESS_STEP", 100)

    def progress(count: int) -> None:
        nonlocal written
        before, written = written, written + count
        if written // step != before // step or written == job.total:
            cache.set(progress_key(job), written, 24 * 3600)

    try:
        _table, _columns, results = _analyse(
            job, by=job.created_by, dry_run=False, progress=progress
        )
    except _TableErrors as failed:
        job.status, job.errors = Status.FAILED, failed.as_list()
    except (ValidationError, PermissionDenied) as error:
        messages = getattr(error, "messages", None) or [str(error)]
        job.status, job.errors = Status.FAILED, [{"row": 0, "field": "", "messages": messages}]
    except Exception:
        # Whatever went wrong, nothing was written: say so rather than run forever.
        logger.exception("Import %s failed.", job.pk)
        messages = [_("The import could not be written; nothing was saved. Try again.")]
        job.status, job.errors = Status.FAILED, [{"row": 0, "field": "", "messages": messages}]
    else:
        outcomes = [outcome for _listing, outcome in results]
        job.status, job.done = Status.DONE, len(outcomes)
        job.outcomes = {name: outcomes.count(name) for name in services.UPSERT_OUTCOMES}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "done", "outcomes", "finished_at"])
    cache.delete(progress_key(job))
    return job


# --- Templates to fill in --------------------------------------------------------------------


def _values_of(code: str) -> list[tuple[str, str]]:
    ref = selectors.reference()
    if code in CHOICES:
        return [(value, str(label)) for value, label in CHOICES[code].choices]
    if code == "focus_areas":
        areas = sorted(ref.focus_areas.values(), key=lambda area: (area.position, area.slug))
        return [(area.slug, area.name) for area in areas]
    if code == "sdgs":
        return [(str(number), goal.name) for number, goal in sorted(ref.sdgs.items())]
    if code == "beneficiary_countries":
        countries = sorted(ref.countries.values(), key=lambda country: fold(country.name))
        return [(country.iso3, country.name) for country in countries]
    return []


def allowed_values(language: str) -> list[list[str]]:
    """Rows explaining each column of the template and the codes it accepts, in ``language``."""
    with translation.override(language):
        rows = [[_("Column"), _("Field"), _("Required"), _("Value"), _("Meaning")]]
        for target in TARGETS:
            required = _("yes") if target.required else _("no")
            note = str(target.help)
            if target.code in MULTIPLE:
                note = _("Several values separated by “;”.")
            rows.append([target.code, str(target.label), required, "", note])
            rows.extend(
                [target.code, "", "", value, label] for value, label in _values_of(target.code)
            )
        return rows


def template_export(fmt: str, *, language: str):
    """An empty file to fill in: the header row of column codes; in XLSX a second sheet
    lists the allowed values (for CSV, ``allowed_values_export`` is a file of its own)."""
    header = [[target.code for target in TARGETS]]
    if fmt == "csv":
        content = "".join(tabular.csv_lines(header)).encode()
    elif fmt == "xlsx":
        with translation.override(language):
            title = _("Allowed values")
        content = tabular.xlsx_bytes([("listings", header), (title, allowed_values(language))])
    else:
        raise ValueError(f"Unknown template format {fmt!r}")
    return Export(
        content=content, content_type=FORMATS[fmt], filename=f"cooperanet-import-{language}.{fmt}"
    )


def allowed_values_export(*, language: str):
    return Export(
        content="".join(tabular.csv_lines(allowed_values(language))).encode(),
        content_type=FORMATS["csv"],
        filename=f"cooperanet-import-values-{language}.csv",
    )
