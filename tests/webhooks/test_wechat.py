import time

import pytest
import time_machine

from oa_platform.channel_types import wechat
from oa_platform.models import ChannelConfig, Citizen, Follow, Message, WebhookEvent
from tests.webhooks.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN

pytestmark = pytest.mark.django_db

# WeChat/WeCom's published WXBizMsgCrypt sample (the official SDK's test values): token, EncodingAESKey,
# AppID/CorpID, and a signed, encrypted echostr and message.
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SAMPLE_APP_ID = "wx5823bf96d3bd56c7"
SAMPLE_VERIFY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
SAMPLE_POST_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
SAMPLE_POST_TIMESTAMP = "1409659813"
SAMPLE_POST_NONCE = "1372623149"
SAMPLE_POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/"
    "sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+"
    "HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB"
    "3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVK"
    "n28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


# --- known answers  ---
def test_plain_signature_known_answer():
    # sha1("1409304348" + "spamtest" + "xxxxxx") (sorted), computed with coreutils' sha1sum.
    assert wechat.signature("spamtest", "1409304348", "xxxxxx") == "09df6e85d1e6515e0c8aa92c1c69858c632c82bb"


def test_official_sample_url_verification_decrypts_echostr():
    v = SAMPLE_VERIFY
    wechat.verify_signature(
        token=SAMPLE_TOKEN, timestamp=v["timestamp"], nonce=v["nonce"], given=v["msg_signature"], encrypt=v["echostr"]
    )
    assert wechat.AESCipher(SAMPLE_AES_KEY, SAMPLE_APP_ID).decrypt(v["echostr"]) == "1616140317555161061"


def test_official_sample_message_verifies_and_decrypts():
    wechat.verify_signature(
        token=SAMPLE_TOKEN,
        timestamp=SAMPLE_POST_TIMESTAMP,
        nonce=SAMPLE_POST_NONCE,
        given=SAMPLE_POST_SIGNATURE,
        encrypt=SAMPLE_POST_ENCRYPT,
    )
    xml = wechat.AESCipher(SAMPLE_AES_KEY, SAMPLE_APP_ID).decrypt(SAMPLE_POST_ENCRYPT)
    fields = wechat.parse_xml(xml.encode())
    assert fields["FromUserName"] == "mycreate"
    assert fields["Content"] == "hello"
    assert fields["MsgId"] == "4561255354251345929"


def test_official_sample_refuses_a_changed_ciphertext_or_another_appid():
    with pytest.raises(wechat.SignatureInvalid):
        wechat.verify_signature(
            token=SAMPLE_TOKEN,
            timestamp=SAMPLE_POST_TIMESTAMP,
            nonce=SAMPLE_POST_NONCE,
            given=SAMPLE_POST_SIGNATURE,
            encrypt=SAMPLE_POST_ENCRYPT.replace("R", "S", 1),
        )
    with pytest.raises(wechat.SignatureInvalid):
        wechat.AESCipher(SAMPLE_AES_KEY, "wx-another-app").decrypt(SAMPLE_POST_ENCRYPT)


def test_encrypt_round_trip_pads_to_32_bytes():
    cipher = wechat.AESCipher(SAMPLE_AES_KEY, SAMPLE_APP_ID)
    token = cipher.encrypt("<xml><Content>你好</Content></xml>", random_prefix=b"0" * 16)
    assert len(__import__("base64").b64decode(token)) % 32 == 0
    assert cipher.decrypt(token) == "<xml><Content>你好</Content></xml>"


# --- the webhook  ---
def _params(token=WECHAT_TOKEN, *, timestamp=None, nonce="n1", encrypt=None):
    timestamp = timestamp or str(int(time.time()))
    params = {"timestamp": timestamp, "nonce": nonce, "signature": wechat.signature(token, timestamp, nonce)}
    if encrypt is not None:
        params["encrypt_type"] = "aes"
        params["msg_signature"] = wechat.signature(token, timestamp, nonce, encrypt)
    return params


def _text_xml(content="xin chào", *, openid="o-user-1", msg_id="1001", create_time=1_700_000_000):
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def _event_xml(event, *, openid="o-user-1", create_time=1_700_000_000):
    return (
        f"<xml><ToUserName>gh_account</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>event</MsgType><Event>{event}</Event></xml>"
    ).encode()


def _post(client, body, params, slug="agency-a"):
    query = "&".join(f"{k}={__import__('urllib.parse').parse.quote(v)}" for k, v in params.items())
    return client.post(f"/webhooks/wechat/{slug}/?{query}", data=body, content_type="text/xml")


def test_url_verification_plain(client, channels_a):
    params = _params()
    response = client.get("/webhooks/wechat/agency-a/", {**params, "echostr": "echo-123"})
    assert response.status_code == 200 and response.content == b"echo-123"
    bad = client.get("/webhooks/wechat/agency-a/", {**params, "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 401


def test_url_verification_safe_mode_with_the_official_sample(client, tenant_a):
    ChannelConfig.objects.create(
        account=tenant_a.account,
        kind="wechat",
        token=SAMPLE_TOKEN,
        app_id=SAMPLE_APP_ID,
        encoding_aes_key=SAMPLE_AES_KEY,
    )
    with time_machine.travel(int(SAMPLE_VERIFY["timestamp"]) + 10, tick=False):
        response = client.get("/webhooks/wechat/agency-a/", SAMPLE_VERIFY)
    assert response.status_code == 200
    assert response.content == b"1616140317555161061"


def test_official_sample_message_through_the_webhook(client, tenant_a):
    ChannelConfig.objects.create(
        account=tenant_a.account,
        kind="wechat",
        token=SAMPLE_TOKEN,
        app_id=SAMPLE_APP_ID,
        encoding_aes_key=SAMPLE_AES_KEY,
    )
    body = (
        f"<xml><ToUserName><![CDATA[{SAMPLE_APP_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{SAMPLE_POST_ENCRYPT}]]></Encrypt></xml>"
    )
    params = {
        "msg_signature": SAMPLE_POST_SIGNATURE,
        "timestamp": SAMPLE_POST_TIMESTAMP,
        "nonce": SAMPLE_POST_NONCE,
        "encrypt_type": "aes",
    }
    with time_machine.travel(int(SAMPLE_POST_TIMESTAMP) + 1, tick=False):
        response = _post(client, body.encode(), params)
    assert response.status_code == 200, response.content
    inbound = Message.objects.get(direction="in")
    assert inbound.text == "hello" and inbound.conversation.citizen.external_id == "mycreate"
    envelope = wechat.parse_xml(response.content)
    wechat.verify_signature(
        token=SAMPLE_TOKEN,
        timestamp=envelope["TimeStamp"],
        nonce=envelope["Nonce"],
        given=envelope["MsgSignature"],
        encrypt=envelope["Encrypt"],
    )
    reply = wechat.parse_xml(wechat.AESCipher(SAMPLE_AES_KEY, SAMPLE_APP_ID).decrypt(envelope["Encrypt"]).encode())
    assert reply["ToUserName"] == "mycreate" and reply["MsgType"] == "text"
    assert reply["Content"] == Message.objects.get(direction="out").text


def test_plain_text_message_gets_a_passive_xml_reply(client, channels_a, fake_api):
    response = _post(client, _text_xml("xin chào"), _params())
    assert response.status_code == 200
    reply = wechat.parse_xml(response.content)
    assert reply["ToUserName"] == "o-user-1" and reply["FromUserName"] == "gh_account"
    stored = Message.objects.get(direction="out")
    assert reply["Content"] == stored.text
    # it left in the response, so it is not sent again through the customer-service API
    assert stored.delivery_status == Message.DELIVERY_SENT
    assert fake_api.requests == []
    assert Citizen.objects.get(channel="wechat").external_id == "o-user-1"


def test_safe_mode_message_gets_an_encrypted_reply(client, channels_a):
    cipher = wechat.AESCipher(WECHAT_AES_KEY, WECHAT_APP_ID)
    encrypt = cipher.encrypt(_text_xml("hello", msg_id="2002").decode())
    body = f"<xml><ToUserName>gh_account</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()
    response = _post(client, body, _params(encrypt=encrypt))
    assert response.status_code == 200
    envelope = wechat.parse_xml(response.content)
    assert envelope["MsgSignature"] == wechat.signature(
        WECHAT_TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    reply = wechat.parse_xml(cipher.decrypt(envelope["Encrypt"]).encode())
    assert reply["Content"] == Message.objects.get(direction="out").text


def test_safe_mode_refuses_bad_msg_signature(client, channels_a):
    cipher = wechat.AESCipher(WECHAT_AES_KEY, WECHAT_APP_ID)
    encrypt = cipher.encrypt(_text_xml("hello").decode())
    body = f"<xml><Encrypt>{encrypt}</Encrypt></xml>".encode()
    params = _params(encrypt=encrypt)
    params["msg_signature"] = "0" * 40
    assert _post(client, body, params).status_code == 401
    assert Message.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_redelivered_msgid_returns_the_same_reply_and_stores_nothing_new(client, channels_a):
    first = _post(client, _text_xml("xin chào", msg_id="555"), _params())
    second = _post(client, _text_xml("xin chào", msg_id="555"), _params(nonce="n2"))
    assert wechat.parse_xml(first.content)["Content"] == wechat.parse_xml(second.content)["Content"]
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert WebhookEvent.objects.count() == 1


def test_subscribe_and_unsubscribe(client, channels_a):
    response = _post(client, _event_xml("subscribe"), _params())
    assert wechat.parse_xml(response.content)["MsgType"] == "text"  # a welcome
    follow = Follow.objects.get(citizen__external_id="o-user-1")
    assert follow.is_active
    response = _post(client, _event_xml("unsubscribe", create_time=1_700_000_100), _params())
    assert response.content == b"success"
    follow.refresh_from_db()
    assert not follow.is_active


def test_other_message_types_are_accepted_and_ignored(client, channels_a):
    body = b"<xml><FromUserName>o1</FromUserName><MsgType>image</MsgType><MsgId>9</MsgId></xml>"
    response = _post(client, body, _params())
    assert response.status_code == 200 and response.content == b"success"
    assert WebhookEvent.objects.count() == 0


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>"""


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<xml><FromUserName>o1</FromUserName", 400),
        (b"not xml at all", 400),
        (ENTITY_BOMB, 400),
        (EXTERNAL_ENTITY, 400),
        (b"<other><FromUserName>o1</FromUserName></other>", 400),
        (b"<xml><MsgType>text</MsgType></xml>", 400),
        (b"<xml>" + b"<a>1</a>" * 100 + b"</xml>", 400),
        (
            b"<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>"
            + b"a" * 70_000
            + b"</Content></xml>",
            413,
        ),
    ],
    ids=["truncated", "garbage", "entity bomb", "external entity", "wrong root", "no sender", "too many", "oversize"],
)
def test_bad_xml_gets_4xx_and_stores_nothing(client, channels_a, body, status):
    response = _post(client, body, _params())
    assert response.status_code == status
    assert "error" in response.json()
    assert WebhookEvent.objects.count() == 0 and Message.objects.count() == 0


def test_bad_signature_stale_timestamp_other_account_unknown_slug(client, channels_a, channels_b):
    body = _text_xml()
    params = _params()
    params["signature"] = "0" * 40
    assert _post(client, body, params).status_code == 401
    assert _post(client, body, _params(timestamp=str(int(time.time()) - 301))).status_code == 401
    # signed with B's token, posted to A
    assert _post(client, body, _params(channels_b["wechat"].token)).status_code == 401
    assert _post(client, body, _params(), slug="nope").status_code == 404
    assert WebhookEvent.objects.count() == 0 and Message.objects.count() == 0
    assert _post(client, body, _params(channels_b["wechat"].token), slug="agency-b").status_code == 200
