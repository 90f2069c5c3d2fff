"""/api/v1/: the exchange's endpoints, tokens, the OpenAPI schema and its browsable docs."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from accounts.api import CurrentTokenView, TokenView
from cooperanet.api import FileDownloadNegotiation
from exchange.api import views as exchange

router = DefaultRouter()
router.include_format_suffixes = False
router.register("offers", exchange.OfferViewSet, basename="offer")
router.register("needs", exchange.NeedViewSet, basename="need")
router.register("institutions", exchange.InstitutionViewSet, basename="institution")
router.register("countries", exchange.CountryViewSet, basename="country")
router.register("focus-areas", exchange.FocusAreaViewSet, basename="focus-area")
router.register("sdgs", exchange.SdgViewSet, basename="sdg")

app_name = "api"


class NoSuchEndpoint(APIView):
    """Any other path under /api/v1/: a 404 in the API's error shape, not an HTML page."""

    schema = None
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        raise NotFound()


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/current/", CurrentTokenView.as_view(), name="token-current"),
    path("stats/", exchange.StatisticsView.as_view(), name="stats"),
    path("iati/activities.xml", exchange.IatiActivitiesView.as_view(), name="iati-activities"),
    *(
        path(
            f"{prefix}/export.<str:fmt>",
            viewset.as_view(
                {"get": "export"},
                pagination_class=None,
                content_negotiation_class=FileDownloadNegotiation,
                renderer_classes=[JSONRenderer],
            ),
            name=f"{prefix}-export",
        )
        for prefix, viewset in (("offers", exchange.OfferViewSet), ("needs", exchange.NeedViewSet))
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI (served from our static files) sets a few inline styles: allowed on this page
    # only; its scripts stay 'self'.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path("", include(router.urls)),
    re_path(r"", NoSuchEndpoint.as_view()),
]
