from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from oa_platform.converters import IdConverter


class OaPlatformConfig(AppConfig):
    name = "oa_platform"
    verbose_name = _("Official Accounts")

    def ready(self):
        # <id:pk> in every URLconf; before any URLconf is imported (they are imported on the first request)
        register_converter(IdConverter, "id")
        # login signal; OpenAPI auth extension; staff sockets closed when access is removed
        from oa_platform import initial_password, schema, staff_access  # noqa: F401
