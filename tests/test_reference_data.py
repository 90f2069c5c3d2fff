"""The reference data of ../shared/reference/, shipped and loaded by data migrations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from accounts.models import Country
from exchange.models import SDG, FocusArea

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"


def test_member_states():
    assert Country.objects.count() == 35
    assert Country.objects.filter(participates=True).count() == 34
    assert list(Country.objects.filter(participates=False).values_list("iso3", flat=True)) == [
        "CUB"
    ]
    peru = Country.objects.get(iso3="PER")
    assert (peru.iso2, peru.name_en, peru.name_es, peru.name_pt, peru.name_fr) == (
        "PE",
        "Peru",
        "Perú",
        "Peru",
        "Pérou",
    )


def test_names_follow_the_active_language():
    brazil = Country.objects.get(iso3="BRA")
    with translation.override("fr"):
        assert str(brazil) == "Brésil"
    with translation.override("es"):
        assert str(brazil) == "Brasil"
        assert str(SDG.objects.get(number=6)) == "6. Agua Limpia y Saneamiento"


def test_focus_areas_and_sdgs():
    assert FocusArea.objects.count() == 11
    assert SDG.objects.count() == 17
    assert list(SDG.objects.values_list("number", flat=True)) == list(range(1, 18))
    assert FocusArea.objects.first().slug == "education-human-development"
    for area in FocusArea.objects.all():
        assert all(getattr(area, f"name_{lang}") for lang in ("en", "es", "pt", "fr"))


@pytest.mark.skipif(
    not SHARED.exists(), reason="the shared reference folder is not beside the repository"
)
@pytest.mark.parametrize(
    ("shipped", "source"),
    [
        ("accounts/data/member_states.json", "member_states.json"),
        ("exchange/data/focus_areas.json", "focus_areas.json"),
        ("exchange/data/sdgs.json", "sdgs.json"),
    ],
)
def test_shipped_files_match_the_shared_reference(shipped, source):
    root = Path(__file__).resolve().parents[1]
    assert json.loads((root / shipped).read_text()) == json.loads((SHARED / source).read_text())


def test_reloading_restores_the_shipped_names():
    peru = Country.objects.get(iso3="PER")
    peru.name_en = "Edited"
    peru.save()
    call_command("load_reference_data", verbosity=0)
    assert Country.objects.count() == 35
    assert Country.objects.get(iso3="PER").name_en == "Peru"
