"""Zalo and WeChat sends: the API shapes, and the token renewal written once (channel_types.base.token_renew)
that both use: WeChat's stable token with the AppSecret, Zalo's single-use refresh token under a row lock."""

import pytest

pytestmark = pytest.mark.django_db


def test_wechat_send_api_shape_and_expired_token(channels_a, fake_api):
    from oa_platform import channel_types as ct

    fake_api.fail_next(1, "expired")
    assert ct.wechat.TYPE.send(channels_a["wechat"], ct.Recipient("o1"), ct.Message("你好")).status == ct.RETRY
    result = ct.wechat.TYPE.send(channels_a["wechat"], ct.Recipient("o1"), ct.Message("你好"))
    assert result.status == ct.SENT
    assert fake_api.sent == [{"channel": "wechat", "to": "o1", "text": "你好"}]
    assert fake_api.requests[-1]["query"]["access_token"] == "wechat-token"


def test_wechat_token_is_renewed_with_the_app_secret(channels_a, fake_api):
    from oa_platform import channel_types as ct
    from oa_platform.models import ChannelConfig

    # given an expired token stored, and the AppSecret known
    config = channels_a["wechat"]
    config.access_token, config.secret = "expired-token", "wechat-app-secret"
    config.save()
    # when a message is sent
    result = ct.wechat.TYPE.send(config, ct.Recipient("o1"), ct.Message("你好"))
    # then the token was fetched from the stable-token API, saved, and the message went out once
    assert result.status == ct.SENT
    assert ChannelConfig.objects.get(pk=config.pk).access_token == "wechat-token"
    assert [r["path"] for r in fake_api.requests] == [
        "/cgi-bin/message/custom/send",
        "/cgi-bin/stable_token",
        "/cgi-bin/message/custom/send",
    ]
    assert fake_api.sent == [{"channel": "wechat", "to": "o1", "text": "你好"}]


def test_wechat_token_renewal_refused_leaves_the_message_for_retry(channels_a, fake_api):
    from oa_platform import channel_types as ct

    config = channels_a["wechat"]
    config.access_token, config.secret = "expired-token", "wrong-secret"
    config.save()
    result = ct.wechat.TYPE.send(config, ct.Recipient("o1"), ct.Message("你好"))
    assert result.status == ct.RETRY and "40001" in result.error
    assert fake_api.sent == []


@pytest.fixture
def zalo_oauth(fake_api, monkeypatch):
    from oa_platform import channel_types as ct

    monkeypatch.setattr(ct.zalo, "OAUTH_BASE", fake_api.url)
    return fake_api


def test_zalo_token_is_renewed_with_the_refresh_token(channels_a, zalo_oauth):
    from oa_platform import channel_types as ct
    from oa_platform.models import ChannelConfig

    # given an expired access token, the app secret and a refresh token
    config = channels_a["zalo"]
    config.access_token, config.app_secret, config.refresh_token = "expired", "zalo-app-secret", "zalo-refresh-1"
    config.save()
    # when a message is sent
    result = ct.zalo.TYPE.send(config, ct.Recipient("u1"), ct.Message("Chào bạn"))
    # then the token was renewed once, both new tokens stored (the refresh token is single use), and it went out
    assert result.status == ct.SENT
    stored = ChannelConfig.objects.get(pk=config.pk)
    assert (stored.access_token, stored.refresh_token) == ("zalo-token-r1", "zalo-refresh-r2")
    assert zalo_oauth.zalo_renewals == 1
    assert zalo_oauth.sent == [{"channel": "zalo", "to": "u1", "text": "Chào bạn"}]


def test_a_worker_with_a_stale_token_uses_the_one_another_worker_renewed(channels_a, zalo_oauth):
    from oa_platform import channel_types as ct
    from oa_platform.models import ChannelConfig

    config = channels_a["zalo"]
    config.access_token, config.app_secret, config.refresh_token = "expired", "zalo-app-secret", "zalo-refresh-1"
    config.save()
    stale_copy = ChannelConfig.objects.get(pk=config.pk)  # loaded by a second worker before the renewal
    assert ct.zalo.TYPE.send(config, ct.Recipient("u1"), ct.Message("một")).status == ct.SENT
    # the second worker fails with its stale token, finds the renewed one, and does not spend the refresh token
    assert ct.zalo.TYPE.send(stale_copy, ct.Recipient("u2"), ct.Message("hai")).status == ct.SENT
    assert zalo_oauth.zalo_renewals == 1
    assert [s["to"] for s in zalo_oauth.sent] == ["u1", "u2"]


def test_a_refused_renewal_leaves_the_message_for_retry(channels_a, zalo_oauth):
    from oa_platform import channel_types as ct

    config = channels_a["zalo"]
    config.access_token, config.app_secret, config.refresh_token = "expired", "wrong-secret", "zalo-refresh-1"
    config.save()
    result = ct.zalo.TYPE.send(config, ct.Recipient("u1"), ct.Message("x"))
    assert result.status == ct.RETRY and "-216" in result.error
    assert zalo_oauth.sent == [] and zalo_oauth.zalo_renewals == 0
