from tests.webhooks.conftest import channels_a, fake_api, short_send_timeout  # noqa: F401 - shared fixtures
