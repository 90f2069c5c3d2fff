"""Spreadsheets from and for people: CSV and XLSX read safely, formulas kept harmless.

Reading checks the content, never the file name: an XLSX is a zip holding a workbook (and is
refused before openpyxl opens it when its parts would inflate to more than
``IMPORT_XLSX_MAX_INFLATED`` bytes or ``IMPORT_XLSX_MAX_RATIO`` times the upload; zipfile
never inflates a part past the size its directory declares, so the declared sizes bound the
work); anything else must be UTF-8 text (with or without a byte-order mark; UTF-16 with its
mark, as Excel's "Unicode text" saves, is read too). Legacy 8-bit encodings (Windows-1252,
Latin-1) are refused with a message that says how to save as UTF-8: guessing them silently
turns accents into other letters. Blank rows are skipped; more than ``IMPORT_MAX_ROWS``
rows with content are refused.

Text that a spreadsheet would run as a formula (starting with = + - @ tab or carriage
return) is written with a leading apostrophe, and that apostrophe is taken off again when
a file is read, so that an export re-imports to exactly the same text.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from exchange.documents import UNREADABLE_ZIP

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_PARTS = {"[Content_Types].xml", "xl/workbook.xml"}
MAX_COLUMNS = 100


def neutralise(value: str) -> str:
    """``value`` with an apostrophe in front when a spreadsheet would read it as a formula.

    Text that already starts with apostrophes before such a character gets one more, so
    that ``unneutralise`` (which takes exactly one off) gives back the original.
    """
    bare = value.lstrip("'")
    return "'" + value if bare[:1] and bare[:1] in FORMULA_STARTS else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise``."""
    if value[:1] == "'":
        bare = value.lstrip("'")
        if bare[:1] and bare[:1] in FORMULA_STARTS:
            return value[1:]
    return value


def is_formula(value: str) -> bool:
    """A cell a spreadsheet computes (a neutralised one starts with an apostrophe)."""
    return value[:1] == "="


@dataclass
class Table:
    """The header and the non-blank rows of a file, every cell as text."""

    format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as a spreadsheet shows it, cells)

    def to_json(self) -> bytes:
        """The table as read, to keep between the steps of an import (read once)."""
        return json.dumps(
            {"format": self.format, "headers": self.headers, "rows": self.rows},
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Table:
        table = json.loads(data)
        return cls(
            format=table["format"],
            headers=table["headers"],
            rows=[(number, cells) for number, cells in table["rows"]],
        )


def read_table(data: bytes) -> Table:
    """Read a CSV or XLSX file's first sheet; raise ValidationError saying what is wrong."""
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == OLE2_MAGIC:
        raise ValidationError(
            _("Excel 97-2003 files (.xls) cannot be read. Save the file as .xlsx or CSV."),
            code="format",
        )
    return _read_csv(data)


def _rows(cells_by_row, format: str) -> Table:
    """Header (the first row with content) and the rows with content, as stripped text."""
    max_rows = settings.IMPORT_MAX_ROWS
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, cells in cells_by_row:
        texts = [_text(cell) for cell in cells[:MAX_COLUMNS]]
        if not any(texts):
            continue
        if headers is None:
            headers = texts
            continue
        if len(rows) >= max_rows:
            raise ValidationError(
                _(
                    "The file has more than %(max)d rows. Split it into files of at most "
                    "%(max)d rows."
                )
                % {"max": max_rows},
                code="rows",
            )
        rows.append((number, texts))
    if headers is None:
        raise ValidationError(_("The file is empty."), code="empty")
    while headers and not headers[-1]:
        headers.pop()
    return Table(format=format, headers=headers, rows=rows)


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat() if cell.time() == datetime.time() else cell.isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        guessed = filetype.guess(data[:8192])
        if guessed is not None or b"\x00" in data[:8192]:
            raise ValidationError(
                _("This is not a CSV or XLSX file. Upload a spreadsheet saved as CSV or XLSX."),
                code="format",
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(
                _(
                    "The file is not encoded in UTF-8 (the byte at position %(position)d "
                    "cannot be read). In Excel, save it as “CSV UTF-8”; in LibreOffice, "
                    "choose the character set “Unicode (UTF-8)”."
                )
                % {"position": error.start},
                code="encoding",
            ) from None
    raise ValidationError(_("The file's text encoding cannot be read."), code="encoding")


def _delimiter(text: str) -> str:
    """Comma, semicolon (Excel in Spanish, Portuguese or French) or tab, from the header."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", ";", "\t"), key=first.count)


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _rows(((number, cells) for number, cells in enumerate(reader, start=1)), "csv")
    except csv.Error as error:
        raise ValidationError(
            _("The CSV file cannot be read near line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": error},
            code="format",
        ) from None


# --- XLSX ------------------------------------------------------------------------------------


def check_zip(data: bytes) -> None:
    """Refuse a zip that is not a workbook or that would inflate out of proportion."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except UNREADABLE_ZIP:
        raise ValidationError(
            _("This is not a CSV or XLSX file. Upload a spreadsheet saved as CSV or XLSX."),
            code="format",
        ) from None
    with archive:
        members = archive.infolist()
        if not XLSX_PARTS.issubset(member.filename for member in members):
            raise ValidationError(
                _("This zip file is not an Excel workbook. Upload a CSV or XLSX file."),
                code="format",
            )
        inflated = sum(member.file_size for member in members)
        limit = settings.IMPORT_XLSX_MAX_INFLATED
        ratio = settings.IMPORT_XLSX_MAX_RATIO
        if len(members) > 1000 or inflated > limit or inflated > ratio * max(len(data), 1):
            raise ValidationError(
                _("This workbook expands to far more than its size; it cannot be accepted."),
                code="zip_bomb",
            )


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    check_zip(data)
    try:
        # Formulas are read as formulas (not their cached results) so that they are refused
        # rather than imported as whatever value Excel last computed (see is_formula).
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception:  # openpyxl raises many kinds (KeyError, XML, zip) for a broken file
        raise ValidationError(
            _("This Excel workbook cannot be read. Save it again as .xlsx and retry."),
            code="format",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # The declared dimensions would pad every row to the sheet's widest (a crafted file
        # says 16,384 columns by a million rows); without them each row ends at its last cell.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        return _rows(((number, list(cells)) for number, cells in enumerate(rows, start=1)), "xlsx")
    finally:
        workbook.close()


# --- Writing ---------------------------------------------------------------------------------


def csv_lines(rows):
    """CSV text, one line at a time (for a streaming response), formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"  # Excel reads UTF-8 only with the byte-order mark
    for row in rows:
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_bytes(sheets: list[tuple[str, list]]) -> bytes:
    """A workbook with one sheet per (title, rows), formulas neutralised."""
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        for row in rows:
            sheet.append(
                [
                    neutralise(ILLEGAL_CHARACTERS_RE.sub("", cell))
                    if isinstance(cell, str)
                    else cell
                    for cell in row
                ]
            )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
