"""Four languages: catalogues exist, are complete, compiled and current; pages switch language."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
TRANSLATED = ["es", "pt", "fr"]

if shutil.which("msgfmt") is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("GNU gettext (msgfmt) is missing; .ci/run installs it.")
    pytestmark = pytest.mark.skip(reason="GNU gettext is not installed (apt-get install gettext)")


def _statistics(po: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr.strip()


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_catalogue_exists_and_its_compiled_form_is_current(language, tmp_path):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == mo.read_bytes(), "the .mo is stale: run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language):
    statistics = _statistics(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert "untranslated" not in statistics, statistics
    assert "fuzzy" not in statistics, statistics


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_string_in_the_code_is_missing_from_the_catalogues(language, tmp_path):
    """makemessages over a copy of the sources adds nothing left untranslated."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".data", ".git", "tests", "staticfiles", "__pycache__"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", language, "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_ENV": "test"},
    )
    statistics = _statistics(copy / "locale" / language / "LC_MESSAGES" / "django.po")
    assert "untranslated" not in statistics, statistics
    assert "fuzzy" not in statistics, statistics
