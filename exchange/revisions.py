"""Side-by-side comparison of a proposed revision with the published listing."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.models import Listing, ListingDocument, ListingRevision
from exchange.selectors import reference
from exchange.services import RELATED_FIELDS, SCALAR_FIELDS


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _display(listing: Listing, name: str, value) -> str:
    field = Listing._meta.get_field(name)
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
    changes = []
    for name in SCALAR_FIELDS:
        current = getattr(listing, name)
        current = current.isoformat() if hasattr(current, "isoformat") else current
        changes.append(
            FieldChange(
                label=str(Listing._meta.get_field(name).verbose_name),
                old=_display(listing, name, current),
                new=_display(listing, name, revision.data.get(name)),
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
