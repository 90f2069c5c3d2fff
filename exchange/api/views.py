"""Endpoints of the exchange under /api/v1/: thin callers of selectors (what exists for whom)
and services (every change, with the same permissions and validation as the web pages)."""

from __future__ import annotations

import datetime
import hashlib

from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_standardized_errors.openapi_serializers import ErrorResponse404Serializer
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.models import Country
from cooperanet.api import FileDownloadNegotiation
from exchange import caching, exports, iati, selectors, services, statistics
from exchange.api import serializers as api
from exchange.api.filters import ListingFilter
from exchange.models import SDG, FocusArea, Listing, ListingRevision

# --- Listings ---------------------------------------------------------------------------------

LISTING_ERRORS = {400: OpenApiResponse(description=_("Invalid values, field by field."))}


class ListingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Offers or needs: the published ones for everybody, and a signed-in institution's own in
    every state. Writes go through ``exchange.services``."""

    kind: str = ""
    serializer_class = api.ListingSerializer
    filterset_class = ListingFilter
    rules = {
        "create": "exchange.create_listing",
        "partial_update": "exchange.edit_listing",
        "by_ref": "exchange.create_listing",
        "submit": "exchange.submit_listing",
        "withdraw": "exchange.withdraw_listing",
        "approve": "exchange.moderate_listing",
        "return_": "exchange.moderate_listing",
        "reject": "exchange.moderate_listing",
    }

    def get_queryset(self):
        listings = (
            selectors.listings_visible_to(self.request.user)
            .filter(kind=self.kind)
            .select_related("institution")
            .annotate(has_pending_revision=selectors.HAS_PENDING_REVISION)
            .order_by("-updated", "-id")
        )
        if self.action in ("list", "retrieve"):
            # Columns the documents never show; the search fields are most of a row's bytes.
            listings = listings.defer(
                *selectors.SEARCH_FIELDS, "moderation_comment", "institution__description"
            )
        return listings

    def list(self, request, *args, **kwargs):
        """Anonymous readers all see the published catalogue: each page is computed once per
        change of it (per address and language); a signed-in reader's pages, which may hold
        the institution's drafts, are always read live."""
        if not selectors.sees_only_published(request.user):
            return super().list(request, *args, **kwargs)
        key = f"api:{translation.get_language()}:{request.build_absolute_uri()}"
        data = caching.catalogue_cached(
            hashlib.sha256(key.encode()).hexdigest(),
            lambda: super(ListingViewSet, self).list(request, *args, **kwargs).data,
        )
        return Response(data)

    def count_rows(self, listings) -> int:
        """The page's ``count`` (see ``cooperanet.api.Pagination``)."""
        ignored = {"page", "page_size", "ordering", "format"}
        filters = sorted(
            (name, values)
            for name, values in self.request.query_params.lists()
            if name not in ignored
        )
        key = hashlib.sha256(repr((self.kind, filters)).encode()).hexdigest()
        return selectors.count_visible(self.request.user, listings, key=key)

    def _answer(self, listing: Listing, code: int = status.HTTP_200_OK) -> Response:
        listing = self.get_queryset().get(pk=listing.pk)
        return Response(self.get_serializer(listing).data, status=code)

    def _input(self, *, partial: bool = False) -> api.ListingInputSerializer:
        data = api.ListingInputSerializer(data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return data

    @extend_schema(
        request=api.ListingInputSerializer,
        responses={201: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Save a new draft"),
        description=_(
            "A draft needs only title, summary, description, language and one focus area; the "
            "rest is checked when it is submitted. The country and institution are those of "
            "the signed-in account."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self._input()
        listing = services.listing_create(by=request.user, kind=self.kind, data=data.listing_data())
        response = self._answer(listing, status.HTTP_201_CREATED)
        response["Location"] = reverse(
            f"api:{self.basename}-detail", kwargs={"pk": listing.pk}, request=request
        )
        return response

    @extend_schema(
        request=api.ListingInputSerializer,
        responses={200: api.ListingSerializer, 202: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Change a listing"),
        description=_(
            "A draft changes at once (200). A published listing keeps its live text: the "
            "change waits for the Secretariat as a revision (202, has_pending_revision)."
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        listing = self.get_object()
        data = self._input(partial=True)
        result = services.listing_update(listing=listing, by=request.user, data=data.listing_data())
        accepted = isinstance(result, ListingRevision)
        return self._answer(listing, status.HTTP_202_ACCEPTED if accepted else status.HTTP_200_OK)

    @extend_schema(
        request=api.ListingInputSerializer,
        responses={
            200: api.ListingSerializer,
            201: api.ListingSerializer,
            202: api.ListingSerializer,
            **LISTING_ERRORS,
        },
        summary=_("Create or update by external reference"),
        description=_(
            "Idempotent sync of a national catalogue by its own identifiers: 201 when the "
            "listing is new, 200 when it was changed or nothing changed, 202 when a published "
            "listing got a revision for the Secretariat. The header CooperaNet-Outcome says "
            "which: created, updated, unchanged or revision."
        ),
    )
    @action(
        detail=False,
        methods=["put"],
        # No control character (a NUL cannot reach PostgreSQL): the reference is a code.
        url_path=r"by-ref/(?P<external_ref>[^/\x00-\x1f]{1,100})",
        filterset_class=None,
        pagination_class=None,
    )
    def by_ref(self, request, external_ref: str):
        data = self._input()
        result, outcome = services.listing_upsert_by_ref(
            by=request.user,
            kind=self.kind,
            external_ref=external_ref,
            data=data.listing_data(),
        )
        listing = result.listing if isinstance(result, ListingRevision) else result
        code = {
            "created": status.HTTP_201_CREATED,
            "revision": status.HTTP_202_ACCEPTED,
        }.get(outcome, status.HTTP_200_OK)
        response = self._answer(listing, code)
        response["CooperaNet-Outcome"] = outcome
        return response

    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=[*exports.FORMATS])],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, exports.FORMATS["xlsx"]): OpenApiTypes.BINARY,
            (200, "application/json"): {"type": "array", "items": {"type": "object"}},
            **LISTING_ERRORS,
        },
        summary=_("Export as CSV, XLSX or JSON"),
        description=_(
            "Every listing the list would show under the same filters (all pages), with labels "
            "next to codes, in the columns the catalogue import reads back."
        ),
    )
    def export(self, request, fmt: str):
        """Routed as ``<kind>s/export.<fmt>`` in cooperanet/api_urls.py (no trailing slash)."""
        if fmt not in exports.FORMATS:
            raise NotFound()
        listings = self.filter_queryset(self.get_queryset())
        return exports.download(request, listings, fmt)

    def _transition(self, service, **kwargs) -> Response:
        listing = self.get_object()
        service(listing=listing, by=self.request.user, **kwargs)
        return self._answer(listing)

    @extend_schema(
        request=api.SubmitSerializer,
        responses={200: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Submit for review"),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = api.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(
            services.listing_submit,
            acknowledge_similar=data.validated_data["acknowledge_similar"],
        )

    @extend_schema(request=None, responses={200: api.ListingSerializer, **LISTING_ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(services.listing_withdraw)

    @extend_schema(
        request=None,
        responses={200: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Approve and publish (Secretariat)"),
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(services.listing_approve)

    @extend_schema(
        request=api.CommentSerializer,
        responses={200: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Return to the publisher with a comment (Secretariat)"),
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        data = api.CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(services.listing_return, comment=data.validated_data["comment"])

    @extend_schema(
        request=api.CommentSerializer,
        responses={200: api.ListingSerializer, **LISTING_ERRORS},
        summary=_("Reject with a comment (Secretariat)"),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = api.CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(services.listing_reject, comment=data.validated_data["comment"])


@extend_schema_view(
    list=extend_schema(summary=_("List cooperation offers")),
    retrieve=extend_schema(summary=_("One cooperation offer")),
)
class OfferViewSet(ListingViewSet):
    kind = Listing.Kind.OFFER


@extend_schema_view(
    list=extend_schema(summary=_("List cooperation needs")),
    retrieve=extend_schema(summary=_("One cooperation need")),
)
class NeedViewSet(ListingViewSet):
    kind = Listing.Kind.NEED
    rules = {
        **ListingViewSet.rules,
        "create": "exchange.create_need",
        "by_ref": "exchange.create_need",
    }


# --- Reference data and publishers ------------------------------------------------------------


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    """Member States (``participates``) and the other countries listings may benefit."""

    serializer_class = api.CountrySerializer
    lookup_field = "iso3"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[A-Za-z]{3}"

    def get_queryset(self):
        return Country.objects.order_by("iso3")

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = self.kwargs[self.lookup_url_kwarg].upper()
        return super().get_object()


class FocusAreaViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = api.FocusAreaSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    queryset = FocusArea.objects.order_by("position", "id")


class SdgViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = api.SdgSerializer
    lookup_field = "number"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[0-9]{1,2}"
    queryset = SDG.objects.order_by("number")


class InstitutionViewSet(viewsets.ReadOnlyModelViewSet):
    """Cooperation Authorities and the partners the Secretariat vetted."""

    serializer_class = api.InstitutionSerializer

    def get_queryset(self):
        return selectors.public_institutions().order_by("name", "id")


# --- Statistics and IATI ----------------------------------------------------------------------


class StatisticsView(generics.GenericAPIView):
    """The four tables of the statistics page, from live data."""

    serializer_class = api.StatisticsSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE, description=_("Published on or after.")),
            OpenApiParameter("until", OpenApiTypes.DATE, description=_("Published on or before.")),
        ],
        responses={200: api.StatisticsSerializer, **LISTING_ERRORS},
    )
    def get(self, request):
        dates = _Dates(data=request.query_params)
        dates.is_valid(raise_exception=True)
        since, until = dates.validated_data.get("since"), dates.validated_data.get("until")
        stats = statistics.statistics(since=since, until=until)
        tables = {name: getattr(stats, name) for name in api.StatisticsSerializer.TABLES}
        data = {"listings": stats.listings, "since": since, "until": until, **tables}
        return Response(self.get_serializer(data).data)


class _Dates(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": _("Choose a date after the start date.")})
        if since and since < datetime.date(1900, 1, 1):
            raise serializers.ValidationError({"since": _("Choose a later date.")})
        return attrs


class IatiActivitiesView(generics.GenericAPIView):
    """Published listings as IATI 2.03 activities, with the catalogue's filters."""

    filterset_class = ListingFilter
    pagination_class = None
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FileDownloadNegotiation

    def get_queryset(self):
        return Listing.objects.filter(status=Listing.Status.PUBLISHED).order_by("id")

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.STR, description=_("An iati-activities document, version 2.03.")
            ),
            **LISTING_ERRORS,
            404: OpenApiResponse(
                ErrorResponse404Serializer,
                description=_("No published listing matches: an IATI file needs one activity."),
            ),
        },
        summary=_("IATI 2.03 activities"),
    )
    def get(self, request):
        listings = self.filter_queryset(self.get_queryset())
        # The schema requires at least one iati-activity: an empty document would be invalid.
        if not listings.exists():
            raise NotFound(
                _(
                    "No published listing matches these filters; an IATI file needs at least "
                    "one activity."
                )
            )
        response = StreamingHttpResponse(
            iati.iter_activities_xml(listings), content_type="application/xml; charset=utf-8"
        )
        response["Content-Disposition"] = 'inline; filename="cooperanet-iati-activities.xml"'
        return response
