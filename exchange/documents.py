"""Checking an uploaded document by its content, not its name.

Accepted: PDF, Word (DOCX), Excel (XLSX), PNG, JPEG and WebP images, up to 10 MB. The type
is read from the bytes (magic numbers, and for DOCX/XLSX the parts inside the zip), so an
executable renamed .pdf or an SVG with script (SVG is never accepted) is refused. Zip
containers are opened only to list their parts, and refused when they would inflate to more
than 50 MB or 100 times their size.
"""

from __future__ import annotations

import secrets
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

MAX_SIZE = 10 * 1024 * 1024
MAX_INFLATED = 50 * 1024 * 1024
MAX_RATIO = 100
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    DOCX: ".docx",
    XLSX: ".xlsx",
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    token: str


# What ``zipfile`` raises on a damaged or hostile archive, besides BadZipFile: a name marked
# UTF-8 that is not, a compression or version it does not read, a truncated entry.
UNREADABLE_ZIP = (zipfile.BadZipFile, UnicodeDecodeError, NotImplementedError, ValueError, EOFError)


def _office_type(upload) -> str | None:
    """DOCX or XLSX by the parts inside the zip; None if it is neither."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            inflated = sum(member.file_size for member in members)
            if inflated > MAX_INFLATED or inflated > MAX_RATIO * max(upload.size, 1):
                raise ValidationError(
                    _("This file expands to far more than its size; it cannot be accepted.")
                )
            names = {member.filename for member in members}
    except UNREADABLE_ZIP:
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def check_upload(upload) -> CheckedFile:
    """Return what the file really is, or raise a ValidationError saying why it is refused."""
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    if upload.size > MAX_SIZE:
        raise ValidationError(
            _("The file is larger than %(limit)d MB.") % {"limit": MAX_SIZE // (1024 * 1024)}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    content_type = kind.mime if kind else None
    if head[:2] == b"PK":
        # Whatever the guess from the first bytes, a zip is judged by its parts and size.
        content_type = _office_type(upload)
    if content_type not in ALLOWED:
        raise ValidationError(
            _("Only PDF, Word (.docx), Excel (.xlsx), PNG, JPEG and WebP files are accepted.")
        )
    stem = PurePath(upload.name or "document").stem[:150] or "document"
    name = get_valid_filename(stem) + ALLOWED[content_type]
    return CheckedFile(
        name=name, content_type=content_type, size=upload.size, token=secrets.token_hex(8)
    )
