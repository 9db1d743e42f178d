from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OaPlatformConfig(AppConfig):
    name = "oa_platform"
    verbose_name = _("Official Accounts")

    def ready(self):
        # login signal; OpenAPI auth extension; staff sockets closed when access is removed
        from oa_platform import initial_password, schema, staff_access  # noqa: F401
