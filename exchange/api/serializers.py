"""The public shapes of the exchange API. Output puts a readable label in the request's language
beside every code (``{"code": "PER", "name": "Peru"}``); input takes the codes alone. Reference
rows come from ``selectors.reference()``, read once per response: a page costs no query per
row."""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Country, Institution
from exchange import selectors
from exchange.models import SDG, FocusArea, Listing
from exchange.services import SCALAR_FIELDS, ListingData


class CodedValue(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SdgValue(serializers.Serializer):
    code = serializers.IntegerField()
    name = serializers.CharField()


class InstitutionValue(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = CodedValue()


def coded(code, label) -> dict | None:
    return {"code": code, "name": str(label)} if code not in ("", None) else None


def choice(choices: type, value: str) -> dict | None:
    if not value:
        return None
    try:
        return coded(value, choices(value).label)
    except ValueError:  # a value no longer offered keeps its code as its label
        return coded(value, value)


def country_value(country: Country | None) -> dict | None:
    return coded(country.iso3, country.name) if country else None


class Labels:
    """Coded values with their labels in the active language, each label looked up once per
    response (a translated name costs a lookup of the language)."""

    def __init__(self, ref: selectors.Reference) -> None:
        self._maps: dict[type, dict[str, str]] = {}
        self.ref = ref

    @cached_property
    def countries(self) -> dict[int, dict]:
        return {pk: country_value(country) for pk, country in self.ref.countries.items()}

    @cached_property
    def focus_areas(self) -> dict[int, dict]:
        return {pk: coded(area.slug, area.name) for pk, area in self.ref.focus_areas.items()}

    @cached_property
    def sdgs(self) -> dict[int, dict]:
        return {number: coded(number, goal.name) for number, goal in self.ref.sdgs.items()}

    def coded(self, choices: type, value: str) -> dict | None:
        if not value:
            return None
        labels = self._maps.get(choices)
        if labels is None:
            labels = self._maps[choices] = {key: str(label) for key, label in choices.choices}
        # A value no longer offered keeps its code as its label.
        return {"code": value, "name": labels.get(value, value)}


# Put in a listing's address by reverse(), then replaced by each listing's id.
URL_PLACEHOLDER = 987654321


def _date(fields, name: str, value) -> str | None:
    return None if value is None else fields[name].to_representation(value)


class WithReference:
    """Reads the reference data once per response (a page's rows share the context)."""

    @property
    def ref(self) -> selectors.Reference:
        context = self.context  # the root serializer's, shared by every row
        if "reference" not in context:
            context["reference"] = selectors.reference()
        return context["reference"]


# --- Reference data ---------------------------------------------------------------------------


class CountrySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="iso3", read_only=True)
    iso2 = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Country
        fields = ["code", "iso2", "name", "participates"]


class FocusAreaSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="slug", read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        model = FocusArea
        fields = ["code", "name"]


class SdgSerializer(serializers.ModelSerializer):
    code = serializers.IntegerField(source="number", read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        model = SDG
        fields = ["code", "name"]


class InstitutionSerializer(WithReference, serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    country = serializers.SerializerMethodField()

    class Meta:
        model = Institution
        fields = ["id", "name", "type", "country", "website"]

    @extend_schema_field(CodedValue)
    def get_type(self, institution: Institution) -> dict | None:
        return choice(Institution.Type, institution.type)

    @extend_schema_field(CodedValue(allow_null=True))
    def get_country(self, institution: Institution) -> dict | None:
        return country_value(self.ref.countries.get(institution.country_id))


# --- Listings ---------------------------------------------------------------------------------


class ListingSerializer(WithReference, serializers.ModelSerializer):
    """A listing as the API shows it."""

    kind = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    language = serializers.SerializerMethodField()
    country = serializers.SerializerMethodField()
    institution = serializers.SerializerMethodField()
    publisher_type = serializers.SerializerMethodField()
    focus_areas = serializers.SerializerMethodField()
    sdgs = serializers.SerializerMethodField()
    modality = serializers.SerializerMethodField()
    cooperation_type = serializers.SerializerMethodField()
    stage = serializers.SerializerMethodField()
    beneficiary_countries = serializers.SerializerMethodField()
    beneficiary_regions = serializers.SerializerMethodField()
    has_pending_revision = serializers.BooleanField(read_only=True, default=False)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "summary",
            "description",
            "language",
            "country",
            "institution",
            "publisher_type",
            "focus_areas",
            "sdgs",
            "modality",
            "cooperation_type",
            "stage",
            "beneficiary_countries",
            "beneficiary_regions",
            "duration_months",
            "cost_sharing",
            "contact_name",
            "contact_email",
            "external_ref",
            "review_by",
            "published_at",
            "created",
            "updated",
            "has_pending_revision",
            "url",
        ]
        read_only_fields = fields

    def to_representation(self, listing: Listing) -> dict:
        """The fields above, built directly: DRF's field-by-field walk (a method call per
        field and row) was most of the time of a page. ``test_fast_representation`` checks
        that both give the same document."""
        labels, fields = self._labels(), self.fields
        areas, goals, countries = labels.focus_areas, labels.sdgs, labels.countries
        institution = listing.institution
        return {
            "id": listing.pk,
            "kind": labels.coded(Listing.Kind, listing.kind),
            "status": labels.coded(Listing.Status, listing.status),
            "title": listing.title,
            "summary": listing.summary,
            "description": listing.description,
            "language": labels.coded(Listing.Language, listing.language),
            "country": countries.get(listing.country_id),
            "institution": {
                "id": institution.pk,
                "name": institution.name,
                "type": labels.coded(Institution.Type, institution.type),
            },
            "publisher_type": labels.coded(Listing.PublisherType, listing.publisher_type),
            "focus_areas": [areas[pk] for pk in listing.focus_area_ids if pk in areas],
            "sdgs": [goals[n] for n in listing.sdg_numbers if n in goals],
            "modality": labels.coded(Listing.Modality, listing.modality),
            "cooperation_type": labels.coded(Listing.CooperationType, listing.cooperation_type),
            "stage": labels.coded(Listing.Stage, listing.stage),
            "beneficiary_countries": [
                countries[pk] for pk in listing.beneficiary_ids if pk in countries
            ],
            "beneficiary_regions": [
                labels.coded(Listing.Region, region) for region in listing.beneficiary_regions
            ],
            "duration_months": listing.duration_months,
            "cost_sharing": listing.cost_sharing,
            "contact_name": listing.contact_name,
            "contact_email": listing.contact_email,
            "external_ref": listing.external_ref,
            "review_by": _date(fields, "review_by", listing.review_by),
            "published_at": _date(fields, "published_at", listing.published_at),
            "created": _date(fields, "created", listing.created),
            "updated": _date(fields, "updated", listing.updated),
            "has_pending_revision": bool(getattr(listing, "has_pending_revision", False)),
            "url": self._url(listing.pk),
        }

    def _labels(self) -> Labels:
        context = self.context
        if "labels" not in context:
            context["labels"] = Labels(self.ref)
        return context["labels"]

    def _url(self, pk: int) -> str:
        # One reverse() per response, not per row: the page address with the id put in.
        context = self.context
        if "listing_url" not in context:
            request = context.get("request")
            path = reverse("exchange:listing", kwargs={"pk": URL_PLACEHOLDER})
            context["listing_url"] = request.build_absolute_uri(path) if request else path
        return context["listing_url"].replace(str(URL_PLACEHOLDER), str(pk))

    @extend_schema_field(CodedValue)
    def get_kind(self, listing: Listing) -> dict | None:
        return choice(Listing.Kind, listing.kind)

    @extend_schema_field(CodedValue)
    def get_status(self, listing: Listing) -> dict | None:
        return choice(Listing.Status, listing.status)

    @extend_schema_field(CodedValue)
    def get_language(self, listing: Listing) -> dict | None:
        return choice(Listing.Language, listing.language)

    @extend_schema_field(CodedValue(allow_null=True))
    def get_country(self, listing: Listing) -> dict | None:
        return country_value(self.ref.countries.get(listing.country_id))

    @extend_schema_field(InstitutionValue)
    def get_institution(self, listing: Listing) -> dict:
        institution = listing.institution
        return {
            "id": institution.pk,
            "name": institution.name,
            "type": choice(Institution.Type, institution.type),
        }

    @extend_schema_field(CodedValue)
    def get_publisher_type(self, listing: Listing) -> dict | None:
        return choice(Listing.PublisherType, listing.publisher_type)

    @extend_schema_field(CodedValue(many=True))
    def get_focus_areas(self, listing: Listing) -> list[dict]:
        areas = self.ref.focus_areas
        return [
            coded(areas[pk].slug, areas[pk].name) for pk in listing.focus_area_ids if pk in areas
        ]

    @extend_schema_field(SdgValue(many=True))
    def get_sdgs(self, listing: Listing) -> list[dict]:
        goals = self.ref.sdgs
        return [coded(n, goals[n].name) for n in listing.sdg_numbers if n in goals]

    @extend_schema_field(CodedValue(allow_null=True))
    def get_modality(self, listing: Listing) -> dict | None:
        return choice(Listing.Modality, listing.modality)

    @extend_schema_field(CodedValue(allow_null=True))
    def get_cooperation_type(self, listing: Listing) -> dict | None:
        return choice(Listing.CooperationType, listing.cooperation_type)

    @extend_schema_field(CodedValue(allow_null=True))
    def get_stage(self, listing: Listing) -> dict | None:
        return choice(Listing.Stage, listing.stage)

    @extend_schema_field(CodedValue(many=True))
    def get_beneficiary_countries(self, listing: Listing) -> list[dict]:
        countries = self.ref.countries
        return [country_value(countries[pk]) for pk in listing.beneficiary_ids if pk in countries]

    @extend_schema_field(CodedValue(many=True))
    def get_beneficiary_regions(self, listing: Listing) -> list[dict]:
        return [choice(Listing.Region, region) for region in listing.beneficiary_regions]

    def get_url(self, listing: Listing) -> str:
        request = self.context.get("request")
        path = listing.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class ListingInputSerializer(serializers.Serializer):
    """What a client sends to create or change a listing: codes only. The kind comes from the
    endpoint, the country and institution from the signed-in account; the values the API shows
    but never takes (``id``, ``status``, ``url``…) are ignored so that a client may send back
    what it read; any other unknown field is an error."""

    READ_ONLY = frozenset(ListingSerializer.Meta.fields) - {
        *SCALAR_FIELDS,
        "focus_areas",
        "sdgs",
        "beneficiary_countries",
    }

    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=600)
    description = serializers.CharField(max_length=20000)
    language = serializers.ChoiceField(choices=Listing.Language.choices)
    focus_areas = serializers.ListField(child=serializers.SlugField(), min_length=1, max_length=20)
    sdgs = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=17),
        required=False,
        max_length=17,
    )
    modality = serializers.ChoiceField(
        choices=Listing.Modality.choices, required=False, allow_blank=True
    )
    cooperation_type = serializers.ChoiceField(
        choices=Listing.CooperationType.choices, required=False, allow_blank=True
    )
    stage = serializers.ChoiceField(choices=Listing.Stage.choices, required=False, allow_blank=True)
    beneficiary_countries = serializers.ListField(
        child=serializers.CharField(min_length=3, max_length=3), required=False, max_length=40
    )
    beneficiary_regions = serializers.ListField(
        child=serializers.ChoiceField(choices=Listing.Region.choices),
        required=False,
        max_length=10,
    )
    duration_months = serializers.IntegerField(
        min_value=1, max_value=240, required=False, allow_null=True
    )
    cost_sharing = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)
    review_by = serializers.DateField(required=False, allow_null=True)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object with the listing's fields.")]}
            )
        unknown = sorted(set(data) - set(self.fields) - self.READ_ONLY)
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Unknown field.")] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(
            {key: value for key, value in data.items() if key in self.fields}
        )

    def validate_focus_areas(self, slugs: list[str]) -> list[FocusArea]:
        known = selectors.reference().focus_area_by_slug()
        return _lookup(slugs, known, _("Unknown focus area: %(code)s."))

    def validate_sdgs(self, numbers: list[int]) -> list[SDG]:
        return _lookup(numbers, selectors.reference().sdgs, _("Unknown SDG: %(code)s."))

    def validate_beneficiary_countries(self, codes: list[str]) -> list[Country]:
        known = selectors.reference().country_by_iso3()
        return _lookup(
            [code.upper() for code in codes], known, _("Unknown country code: %(code)s.")
        )

    def listing_data(self) -> ListingData:
        return ListingData.from_cleaned(self.validated_data)


def _lookup(codes, known: dict, message: str) -> list:
    unknown = [str(code) for code in codes if code not in known]
    if unknown:
        raise serializers.ValidationError(
            [message % {"code": code} for code in unknown], code="unknown_code"
        )
    return [known[code] for code in dict.fromkeys(codes)]


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000)


class SubmitSerializer(serializers.Serializer):
    acknowledge_similar = serializers.BooleanField(
        default=False,
        help_text=_(
            "Submit even though the institution has a listing very like this one (the first "
            'attempt answers 400 with the code "similar").'
        ),
    )


# --- Statistics -------------------------------------------------------------------------------


class StatisticsRow(serializers.Serializer):
    code = serializers.CharField(source="key")
    name = serializers.CharField(source="label")
    count = serializers.IntegerField()
    percentage = serializers.FloatField()


class StatisticsTable(serializers.Serializer):
    rows = StatisticsRow(many=True)
    total = serializers.IntegerField()


class StatisticsSerializer(serializers.Serializer):
    """``exchange.statistics.Statistics`` as JSON, with the dates it covers."""

    TABLES = ("by_type", "by_country", "by_focus_area", "by_sdg")

    listings = serializers.IntegerField()
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    by_type = StatisticsTable()
    by_country = StatisticsTable()
    by_focus_area = StatisticsTable()
    by_sdg = StatisticsTable()
