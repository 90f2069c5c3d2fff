from django.urls import path, re_path

from exchange import views

app_name = "exchange"

urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("listings/new/<str:kind>/", views.listing_create, name="create"),
    path("listings/<int:pk>/", views.listing_detail, name="listing"),
    path("listings/<int:pk>/edit/", views.listing_edit, name="edit"),
    path("listings/<int:pk>/submit/", views.listing_submit, name="submit"),
    path("listings/<int:pk>/withdraw/", views.listing_withdraw, name="withdraw"),
    path("listings/<int:pk>/renew/", views.listing_renew, name="renew"),
    path("listings/<int:pk>/history/", views.listing_history, name="history"),
    path("listings/<int:pk>/interest/", views.express_interest, name="interest"),
    path("listings/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path(
        "listings/<int:pk>/documents/<int:document_pk>/",
        views.document_download,
        name="document",
    ),
    path(
        "listings/<int:pk>/documents/<int:document_pk>/delete/",
        views.document_delete,
        name="document_delete",
    ),
    path("dashboard/listings/", views.my_listings, name="my_listings"),
    path("dashboard/connections/", views.my_connections, name="my_connections"),
    path("connections/<int:pk>/move/", views.connection_move, name="connection_move"),
    re_path(r"^countries/(?P<iso3>[A-Za-z]{3})/$", views.country_profile, name="country"),
    path("institutions/<int:pk>/", views.institution_profile, name="institution"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/<slug:table>.csv", views.statistics_csv, name="statistics_csv"),
    path("catalogue/export.<str:fmt>", views.catalogue_export, name="catalogue_export"),
    path(
        "dashboard/listings/export.<str:fmt>",
        views.my_listings_export,
        name="my_listings_export",
    ),
    path("imports/", views.import_start, name="import_start"),
    path("imports/template.<str:fmt>", views.import_template, name="import_template"),
    path("imports/allowed-values.csv", views.import_allowed_values, name="import_values"),
    path("imports/<int:pk>/", views.import_status, name="import_status"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/preview/", views.import_preview, name="import_preview"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
]
