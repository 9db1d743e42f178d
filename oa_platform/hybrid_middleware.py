"""Django's pattern for a middleware that runs in whichever mode its chain runs (sync under the test client and
WSGI, async under ASGI): a sync-only middleware would put every request of an ASGI process on one thread."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class HybridMiddleware:
    """Subclasses call ``_set_mode(get_response)`` from ``__init__`` and define ``_call`` (sync) and ``_acall``."""

    sync_capable = True
    async_capable = True

    def _set_mode(self, get_response) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        return self._call(request)
