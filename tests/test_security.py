"""Headers every page carries, and templates that keep a strict Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db
def test_pages_carry_a_strict_policy(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "template", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text
    assert not re.search(r"\sstyle=\"", text)
    assert not re.search(r"\son[a-z]+=\"", text), "inline event handler"


def test_an_oversize_upload_is_counted_not_kept(rf, settings):
    """Past UPLOAD_MAX_BYTES an upload's bytes are dropped as they arrive: the file reaches
    the form empty, with its real size (which the form refuses), and none of it on disk."""
    from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

    from exchange import documents

    assert documents.MAX_SIZE <= settings.UPLOAD_MAX_BYTES
    assert settings.IMPORT_MAX_UPLOAD_BYTES <= settings.UPLOAD_MAX_BYTES
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024)
    request = rf.post(
        "/", {"file": SimpleUploadedFile("big.pdf", big), "title": "kept", "small": b""}
    )
    upload = request.FILES["file"]
    assert isinstance(upload, InMemoryUploadedFile)
    assert upload.size == len(big)
    assert upload.read() == b""
    assert request.POST["title"] == "kept"
    # Up to the limit, a file is received whole.
    small = b"%PDF-1.7\n" + b"1" * (512 * 1024)
    request = rf.post("/", {"file": SimpleUploadedFile("small.pdf", small)})
    assert request.FILES["file"].read() == small
    # The form's own check then refuses the oversize file with its message.
    from django.core.exceptions import ValidationError

    oversize = SimpleUploadedFile("big.pdf", b"")
    oversize.size = documents.MAX_SIZE + 1
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        documents.check_upload(oversize)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/countries/P%00R/"),
        ("get", "/invitation/abc%00def/"),
        ("get", "/dashboard/api-tokens/abc%00/revoke/"),
        ("get", "/api/v1/focus-areas/sm%00es/"),
        ("put", "/api/v1/offers/by-ref/APCI%00-1/"),
    ],
)
def test_a_nul_in_a_path_is_not_found_not_a_server_error(client, focal_point, method, path):
    """PostgreSQL refuses text with a NUL: a path segment read as a code never carries one
    to a query."""
    client.force_login(focal_point)
    response = getattr(client, method)(path, data={}, content_type="application/json")
    assert response.status_code == 404
