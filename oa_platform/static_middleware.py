"""WhiteNoise that also runs in async mode.

WhiteNoise's middleware is sync-only. Under ASGI one sync-only middleware makes Django run the whole chain,
every view included, on one thread per process, so requests that wait on PostgreSQL wait in line. This
subclass serves static files the same way and otherwise hands the request on in the mode it came in.
"""

from asgiref.sync import sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware

from oa_platform.hybrid_middleware import HybridMiddleware


class StaticFilesMiddleware(HybridMiddleware, WhiteNoiseMiddleware):
    def __init__(self, get_response=None):
        WhiteNoiseMiddleware.__init__(self, get_response)
        self._set_mode(get_response)

    def _call(self, request):
        return WhiteNoiseMiddleware.__call__(self, request)

    async def _acall(self, request):
        static_file = (
            await sync_to_async(self.find_file)(request.path_info)
            if self.autorefresh
            else self.files.get(request.path_info)
        )
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)
