from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectConfig(AppConfig):
    name = "oa_platform.collect"
    label = "collect"
    verbose_name = _("Information collection")
