from tests.webhooks.conftest import channels_a, fake_api  # noqa: F401 - shared fixtures
