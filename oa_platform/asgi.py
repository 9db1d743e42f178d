"""ASGI entry point: HTTP through Django (bodies capped first, oa_platform.body_limit; a bounded number at once,
oa_platform.asgi_limit), WebSockets through Channels (Origin-checked, session-aware)."""

import os

from oa_platform.asgi_limit import bounded_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oa_platform.settings")
django_asgi_app = bounded_asgi_application()  # at most HTTP_CONCURRENCY requests in Django at once (why: there)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from oa_platform.body_limit import RequestBodyLimit  # noqa: E402
from oa_platform.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
