"""The Member States shipped in accounts/data/, loaded by a data migration and on demand."""

import json
from pathlib import Path

MEMBER_STATES = Path(__file__).resolve().parent / "data" / "member_states.json"
LANGUAGES = ("en", "es", "pt", "fr")


def load_member_states(country_model) -> int:
    """Create or update the 35 Member States, matched on ISO alpha-3; return how many.

    Takes the model as an argument so the data migration can pass its historical model.
    """
    states = json.loads(MEMBER_STATES.read_text(encoding="utf-8"))["member_states"]
    for state in states:
        country_model.objects.update_or_create(
            iso3=state["iso3"],
            defaults={
                "iso2": state["iso2"],
                "participates": state["participates"],
                **{f"name_{lang}": state["name"][lang] for lang in LANGUAGES},
            },
        )
    return len(states)
