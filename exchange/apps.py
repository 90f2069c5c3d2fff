from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Cooperation exchange")

    def ready(self) -> None:
        from cooperanet import lookups  # noqa: F401 - registration on import
        from exchange import notifications, signals  # noqa: F401 - registration on import
