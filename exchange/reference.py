"""Focus areas and SDGs shipped in exchange/data/, loaded by a data migration and on demand."""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es", "pt", "fr")


def load_focus_areas(focus_area_model) -> int:
    areas = json.loads((DATA / "focus_areas.json").read_text(encoding="utf-8"))["focus_areas"]
    for position, area in enumerate(areas, start=1):
        focus_area_model.objects.update_or_create(
            slug=area["slug"],
            defaults={
                "position": position,
                **{f"name_{lang}": area["name"][lang] for lang in LANGUAGES},
            },
        )
    return len(areas)


def load_sdgs(sdg_model) -> int:
    goals = json.loads((DATA / "sdgs.json").read_text(encoding="utf-8"))["sdgs"]
    for goal in goals:
        sdg_model.objects.update_or_create(
            number=goal["number"],
            defaults={f"name_{lang}": goal["name"][lang] for lang in LANGUAGES},
        )
    return len(goals)
