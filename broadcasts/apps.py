from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastsConfig(AppConfig):
    name = "broadcasts"
    verbose_name = _("Broadcasts")

    def ready(self):
        # The HTTP providers register their adapter class with broadcasts.providers.registry when imported;
        # the registry imports none of them (no import circle), so every process imports them here (not at the top
        # of this module: they import models, which cannot load before the app registry is ready).
        from broadcasts.providers import sms, webhook, zns  # noqa: F401
