"""Comparisons of a listing's versions: a proposed revision side by side with the published
listing, and each recorded change of its history with the one before."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.models import Listing, ListingDocument, ListingRevision
from exchange.selectors import reference
from exchange.services import RELATED_FIELDS, SCALAR_FIELDS, revision_values


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str
    # Long text (a description): the history says it changed, without quoting it.
    long: bool = False

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _display(name: str, value) -> str:
    """A listing field's value as people read it (a date as a revision stores it)."""
    field = Listing._meta.get_field(name)
    value = value.isoformat() if hasattr(value, "isoformat") else value
    if value in (None, "", []):
        return ""
    if name == "beneficiary_regions":
        labels = dict(Listing.Region.choices)
        return ", ".join(str(labels.get(v, v)) for v in value)
    if field.choices:
        return str(dict(field.choices).get(value, value))
    return str(value)


def _related_display(name: str, ids: list[int]) -> str:
    ref = reference()
    rows = {
        "focus_areas": ref.focus_areas,
        "sdgs": {g.pk: g for g in ref.sdgs.values()},
        "beneficiary_countries": ref.countries,
    }[name]
    return ", ".join(str(rows[pk]) for pk in sorted(ids) if pk in rows)


def revision_diff(revision: ListingRevision) -> list[FieldChange]:
    listing = revision.listing
    values = revision_values(revision)
    changes = []
    for name in SCALAR_FIELDS:
        changes.append(
            FieldChange(
                label=str(Listing._meta.get_field(name).verbose_name),
                old=_display(name, getattr(listing, name)),
                new=_display(name, values[name]),
            )
        )
    for name in RELATED_FIELDS:
        current = list(getattr(listing, name).values_list("pk", flat=True))
        changes.append(
            FieldChange(
                label=str(Listing._meta.get_field(name).verbose_name),
                old=_related_display(name, current),
                new=_related_display(name, revision.data.get(name, [])),
            )
        )
    documents = list(listing.documents.filter(revision=None).values_list("name", flat=True))
    proposed = list(revision.documents.values_list("name", flat=True))
    changes.append(
        FieldChange(
            label=str(ListingDocument._meta.verbose_name_plural),
            old="\n".join(documents),
            new="\n".join(documents + proposed),
        )
    )
    return changes


# The fields a history event compares (the moderation comment too: the Secretariat's word
# is part of the record), and those too long to quote in a table row.
EVENT_FIELDS = (*SCALAR_FIELDS, "moderation_comment")
LONG_FIELDS = frozenset({"summary", "description", "cost_sharing"})
EVENT_ARRAYS = {
    "focus_area_ids": "focus_areas",
    "sdg_numbers": "sdgs",
    "beneficiary_ids": "beneficiary_countries",
}


def _array_display(name: str, values: list[int]) -> str:
    if name == "sdg_numbers":
        goals = reference().sdgs
        return ", ".join(str(goals[n]) for n in sorted(values or []) if n in goals)
    return _related_display(EVENT_ARRAYS[name], values or [])


def event_changes(event, older) -> list[FieldChange]:
    """What ``event`` (a ListingEvent) changed from ``older``, the event before it (none
    for the first: it created the listing)."""
    if older is None:
        return []
    changes = []
    for name in EVENT_FIELDS:
        old, new = getattr(older, name), getattr(event, name)
        if old != new:
            changes.append(
                FieldChange(
                    label=str(Listing._meta.get_field(name).verbose_name),
                    old=_display(name, old),
                    new=_display(name, new),
                    long=name in LONG_FIELDS,
                )
            )
    for name, field in EVENT_ARRAYS.items():
        old, new = getattr(older, name), getattr(event, name)
        if sorted(old or []) != sorted(new or []):
            changes.append(
                FieldChange(
                    label=str(Listing._meta.get_field(field).verbose_name),
                    old=_array_display(name, old),
                    new=_array_display(name, new),
                )
            )
    return changes


def with_changes(events: list, older) -> list:
    """``events`` (newest first), each with the ``changes`` it made; ``older`` is the event
    just before the last of them (the next page's first), or None."""
    for index, event in enumerate(events):
        before = events[index + 1] if index + 1 < len(events) else older
        event.changes = event_changes(event, before)
    return events
