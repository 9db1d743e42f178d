"""Serve the whole product from one process: site, admin, API and WebSockets (ASGI, uvicorn), plus the
periodic background work when no Celery broker is configured (the embedded default)."""

import asyncio

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from oa_platform.embedded_beat import EmbeddedBeat


def uvicorn_config(*, host: str, port: int):
    return uvicorn.Config(
        "oa_platform.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_level="info",
        ws_max_size=settings.WS_MAX_FRAME * 2,
        # the client address behind a reverse proxy (settings.FORWARDED_ALLOW_IPS), as `make serve-prod`
        proxy_headers=True,
        forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
    )


class Command(BaseCommand):
    help = "Serve site, admin, API and WebSockets on PORT; runs the beat schedule in-process without a broker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-beat", action="store_true", help="do not run the schedule in this process")

    def handle(self, *args, **options):

        run_beat = settings.CELERY_TASK_ALWAYS_EAGER and not options["no_beat"]
        server = uvicorn.Server(uvicorn_config(host=options["host"], port=options["port"]))
        self.stdout.write(
            f"Serving on http://{options['host']}:{options['port']}/ "
            f"(database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"background work: {'in this process' if run_beat else 'Celery workers'})"
        )

        async def main():
            beat_task = asyncio.create_task(EmbeddedBeat().run_forever()) if run_beat else None
            try:
                await server.serve()
            finally:
                if beat_task is not None:
                    beat_task.cancel()

        asyncio.run(main())
