from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/institution/", views.institution, name="institution"),
    path(
        "dashboard/institution/delegates/<int:pk>/revoke/",
        views.revoke_delegate,
        name="revoke_delegate",
    ),
    path(
        "dashboard/institution/invitations/<int:pk>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("dashboard/notifications/", views.inbox, name="inbox"),
    path(
        "dashboard/notifications/<int:pk>/open/", views.open_notification, name="open_notification"
    ),
    path("dashboard/notifications/read-all/", views.read_all_notifications, name="read_all"),
    path("dashboard/preferences/", views.preferences, name="preferences"),
    path("dashboard/api-tokens/", views.api_tokens, name="api_tokens"),
    path(
        "dashboard/api-tokens/<slug:key>/revoke/", views.revoke_api_token, name="revoke_api_token"
    ),
    path("invitation/<slug:token>/", views.accept_invitation, name="accept_invitation"),
    path("staff/designations/", views.designation_dashboard, name="designations"),
]
