"""The catalogue's filters for the API. The values are validated here (an unknown code is a 400
naming the parameter); the filtering itself is the catalogue's,
``exchange.catalogue.filter_listings``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from exchange import catalogue, selectors
from exchange.models import Listing


def _countries():
    return sorted((c.iso3, c.name) for c in selectors.reference().countries.values())


def _focus_areas():
    return sorted((a.slug, a.name) for a in selectors.reference().focus_areas.values())


def _sdgs():
    return [(str(n), str(goal)) for n, goal in sorted(selectors.reference().sdgs.items())]


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class CodesFilter(filters.MultipleChoiceFilter):
    """Codes of reference data, which the Secretariat may extend: listed by their own
    endpoints rather than as a fixed enumeration in the schema."""


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class NumbersFilter(filters.MultipleChoiceFilter):
    pass


class ListingFilter(filters.FilterSet):
    country = CodesFilter(
        choices=_countries,
        method="by_catalogue",
        help_text=_("Publishing country, ISO 3166-1 alpha-3 (repeat for several)."),
    )
    focus_area = CodesFilter(
        choices=_focus_areas, method="by_catalogue", help_text=_("Focus-area slug.")
    )
    sdg = NumbersFilter(choices=_sdgs, method="by_catalogue", help_text=_("SDG number, 1 to 17."))
    modality = filters.MultipleChoiceFilter(choices=Listing.Modality.choices, method="by_catalogue")
    cooperation_type = filters.MultipleChoiceFilter(
        choices=Listing.CooperationType.choices, method="by_catalogue"
    )
    language = filters.MultipleChoiceFilter(
        choices=Listing.Language.choices,
        method="by_catalogue",
        help_text=_("Language the listing is written in."),
    )
    publisher_type = filters.MultipleChoiceFilter(
        choices=Listing.PublisherType.choices, method="by_catalogue"
    )
    q = filters.CharFilter(
        max_length=200,
        method="by_catalogue",
        help_text=_(
            'Full-text search, as in the catalogue: words, "quoted phrases", or, -excluded.'
        ),
    )
    status = filters.MultipleChoiceFilter(
        choices=Listing.Status.choices,
        help_text=_("Signed-in publishers also see their own listings in other states."),
    )
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated",
        lookup_expr="gte",
        help_text=_("Only listings changed at or after this ISO 8601 date and time."),
    )
    ordering = filters.OrderingFilter(
        fields=(("updated", "updated"), ("published_at", "published"), ("title", "title")),
        help_text=_("updated, published or title; a leading minus sorts descending."),
    )

    class Meta:
        model = Listing
        fields: list[str] = []

    def by_catalogue(self, queryset, name, value):
        return queryset  # all catalogue filters are applied together in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        ref = selectors.reference()
        data = self.form.cleaned_data
        countries = ref.country_by_iso3()
        areas = ref.focus_area_by_slug()
        query = catalogue.CatalogueQuery(
            country=tuple(countries[code].pk for code in data.get("country") or ()),
            focus_area=tuple(areas[slug].pk for slug in data.get("focus_area") or ()),
            sdg=tuple(int(number) for number in data.get("sdg") or ()),
            modality=tuple(data.get("modality") or ()),
            cooperation_type=tuple(data.get("cooperation_type") or ()),
            language=tuple(data.get("language") or ()),
            publisher_type=tuple(data.get("publisher_type") or ()),
            q=(data.get("q") or "").strip(),
        )
        return catalogue.filter_listings(queryset, query)
