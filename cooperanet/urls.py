from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views

# The admin signs in through allauth, so staff meet the same rate limits and MFA.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("CooperaNet administration")
admin.site.site_title = _("CooperaNet")

urlpatterns = [
    path("", account_views.home, name="home"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cooperanet.api_urls")),
    path("", include("accounts.urls")),
    path("", include("exchange.urls")),
]
