"""No access token in any log line: httpx logs a WeChat send's URL, ``…/custom/send?access_token=…``, at INFO."""

import copy
import io
import logging
import logging.config

import pytest
from celery.signals import after_setup_logger
from django.conf import settings

from oa_platform import channel_types as ct
from oa_platform.logging import RedactPersonalData, redact

pytestmark = pytest.mark.django_db

TOKEN = "wechat-token"  # the fake API's valid WeChat access token (channels_a stores it)


@pytest.fixture
def configured_logging():
    """settings.LOGGING applied as at startup, its console handler writing into a buffer; the logging
    configuration of the test session is put back afterwards."""
    config = copy.deepcopy(settings.LOGGING)
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    root = logging.getLogger()
    named = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", *config["loggers"])}
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in named.items():
            logging.getLogger(name).setLevel(level)


def test_a_wechat_send_logs_no_access_token(channels_a, fake_api, configured_logging):
    # given the production logging configuration (root at INFO)
    assert logging.getLogger().getEffectiveLevel() <= logging.INFO
    # when a WeChat customer-service message is sent, its token in the query string
    result = ct.wechat.TYPE.send(channels_a["wechat"], ct.Recipient("o1"), ct.Message("你好"))
    assert result.status == ct.SENT
    assert fake_api.requests[-1]["query"]["access_token"] == TOKEN
    # then no line carries the token
    assert TOKEN not in configured_logging.getvalue()


def test_the_token_is_redacted_even_with_httpx_logging_turned_up(channels_a, fake_api, configured_logging):
    # given an operator debugging requests (httpx at INFO logs every URL)
    logging.getLogger("httpx").setLevel(logging.INFO)
    # when a WeChat message is sent
    ct.wechat.TYPE.send(channels_a["wechat"], ct.Recipient("o1"), ct.Message("你好"))
    # then the request is logged, its token redacted
    output = configured_logging.getvalue()
    assert "/cgi-bin/message/custom/send?access_token=[redacted]" in output
    assert TOKEN not in output


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("POST https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=AT.xyz-1 200", "AT.xyz-1"),
        ("GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=APPSECRET9", "APPSECRET9"),
        ("renew?refresh_token=RT_123&app_id=1", "RT_123"),
        ("headers: access_token: zalo-tok-9, content-type", "zalo-tok-9"),
        ("X-OA-Signature: sha256=deadbeef01", "deadbeef01"),
    ],
)
def test_credentials_in_log_lines_are_redacted(line, secret):
    assert secret not in redact(line) and "[redacted]" in redact(line)


def test_a_celery_workers_own_handlers_redact_too():
    # a worker replaces the root logger's handlers with its own, then sends after_setup_logger
    stream = io.StringIO()
    logger = logging.getLogger("tests.celery-worker-root")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        after_setup_logger.send(
            sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False
        )
        assert any(isinstance(f, RedactPersonalData) for f in handler.filters)
        logger.warning("POST %s failed", "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=AT-1")
        assert "AT-1" not in stream.getvalue() and "access_token=[redacted]" in stream.getvalue()
    finally:
        logger.removeHandler(handler)
