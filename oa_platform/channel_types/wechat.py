"""WeChat Official Account: signatures, the WXBizMsgCrypt "safe mode" (AES), XML in/out, and customer-service
messages out with token renewal through the stable-token API.

WeChat wants the reply to a message inside the webhook's response (passive reply, within 5 s), so the webhook
view processes its events inline (``inline_reply``) and answers with ``reply_response``.

- Plain signature: ``sha1(''.join(sorted([token, timestamp, nonce])))``.
- Safe mode: ``msg_signature = sha1(''.join(sorted([token, timestamp, nonce, encrypt])))``; the message is
  AES-256-CBC with key = base64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to 32 bytes, over
  ``16 random bytes + 4-byte big-endian length + xml + appid``, then base64.
- XML is parsed with defusedxml: DTDs and entities are refused, so entity bombs never expand.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import struct
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from django.http import HttpResponse

from oa_platform.channel_types.base import (
    FAILED,
    REACH_FOLLOWERS_IN_WINDOW,
    RETRY,
    SENT,
    UNREACHABLE,
    ChannelType,
    InboundEvent,
    Message,
    Recipient,
    SendResult,
    SignatureInvalid,
    content_key,
    freshness_check,
    signing_key_check,
    token_renew,
)
from oa_platform.channel_types.http import RENEW_POLICY, json_body, policy_for, post
from oa_platform.channel_types.signing import digest_equal
from oa_platform.errors import ValidationFailed
from oa_platform.provider_errors import code_error_summary, error_code, http_error_summary

logger = logging.getLogger(__name__)

BLOCK = 32  # WXBizMsgCrypt pads to 32 bytes, not AES's 16
# Fields of a message are short; refuse a document with more elements than any real message has.
MAX_ELEMENTS = 64


def signature(*parts: str) -> str:
    """sha1 of the sorted, concatenated parts: (token, timestamp, nonce[, encrypt])."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def verify_signature(*, token: str, timestamp: str, nonce: str, given: str | None, encrypt: str | None = None) -> None:
    signing_key_check(token)
    parts = [token, timestamp or "", nonce or ""]
    if encrypt is not None:
        parts.append(encrypt)
    if not given or not digest_equal(signature(*parts), given):
        raise SignatureInvalid("Bad signature.")


class AESCipher:
    """WXBizMsgCrypt encryption for one account (EncodingAESKey + AppID)."""

    def __init__(self, encoding_aes_key: str, app_id: str):
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("EncodingAESKey is not 43 base64 characters") from exc
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self.key = key
        self.app_id = app_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, plaintext: str, *, random_prefix: bytes | None = None) -> str:
        body = plaintext.encode()
        raw = (random_prefix or secrets.token_bytes(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = BLOCK - len(raw) % BLOCK
        raw += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The plaintext XML; SignatureInvalid when it does not decrypt or carries another AppID."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureInvalid("Encrypted message is not base64.") from exc
        if not data or len(data) % 16:
            raise SignatureInvalid("Encrypted message has a bad length.")
        decryptor = self._cipher().decryptor()
        raw = decryptor.update(data) + decryptor.finalize()
        pad = raw[-1]
        if pad < 1 or pad > BLOCK or raw[-pad:] != bytes([pad]) * pad:
            raise SignatureInvalid("Bad padding.")
        raw = raw[:-pad]
        if len(raw) < 20:
            raise SignatureInvalid("Encrypted message too short.")
        (length,) = struct.unpack(">I", raw[16:20])
        xml, app_id = raw[20 : 20 + length], raw[20 + length :]
        if len(xml) != length or app_id.decode(errors="replace") != self.app_id:
            raise SignatureInvalid("Message for another AppID.")
        try:
            return xml.decode()
        except UnicodeDecodeError as exc:
            raise SignatureInvalid("Encrypted message is not UTF-8.") from exc


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The children of the root ``<xml>`` as a flat dict. ValidationFailed for malformed, DTD/entity or odd XML."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, SyntaxError) as exc:
        raise ValidationFailed("Malformed XML.") from exc
    children = list(root)
    if root.tag != "xml" or len(children) > MAX_ELEMENTS:
        raise ValidationFailed("Unexpected XML document.")
    return {child.tag: (child.text or "").strip() for child in children}


def _xml(fields: dict[str, str | int]) -> str:
    root = Element("xml")
    for name, value in fields.items():
        SubElement(root, name).text = str(value)
    return tostring(root, encoding="unicode")


def text_reply_xml(*, to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """Passive reply (被动回复) with a text message."""
    return _xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time or int(time.time()),
            "MsgType": "text",
            "Content": content,
        }
    )


def encrypted_envelope(*, token: str, cipher: AESCipher, xml: str, nonce: str | None = None) -> str:
    """The safe-mode response: Encrypt, MsgSignature, TimeStamp, Nonce."""
    encrypt = cipher.encrypt(xml)
    timestamp = str(int(time.time()))
    nonce = nonce or os.urandom(8).hex()
    return _xml(
        {
            "Encrypt": encrypt,
            "MsgSignature": signature(token, timestamp, nonce, encrypt),
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
    )


@dataclass(frozen=True)
class WeChatMessage:
    kind: str  # "text", "subscribe", "unsubscribe" or something ignored ("image", "event:CLICK", ...)
    openid: str
    to_user: str  # the account's own WeChat id, the sender of our passive reply
    text: str
    dedup_key: str

    @property
    def handled(self) -> bool:
        return self.kind in ("text", "subscribe", "unsubscribe")


def parse_message(fields: dict[str, str]) -> WeChatMessage:
    openid = fields.get("FromUserName", "")
    to_user = fields.get("ToUserName", "")
    msg_type = fields.get("MsgType", "")
    if not openid or not msg_type or len(openid) > 128:
        raise ValidationFailed("Missing FromUserName or MsgType.")
    if msg_type == "event":
        kind = fields.get("Event", "").lower()
        kind = kind if kind in ("subscribe", "unsubscribe") else f"event:{kind}"
        # Events carry no MsgId; WeChat documents FromUserName + CreateTime as their identity.
        key = content_key("event", openid, fields.get("CreateTime", ""))
        return WeChatMessage(kind=kind, openid=openid, to_user=to_user, text="", dedup_key=key)
    msg_id = fields.get("MsgId", "")
    if len(msg_id) > 64:  # WeChat's MsgId is a 64-bit number; longer ones would overflow the message's external id
        raise ValidationFailed("MsgId too long.")
    key = f"m:{msg_id}" if msg_id else content_key(msg_type, openid, fields.get("CreateTime", ""))
    return WeChatMessage(kind=msg_type, openid=openid, to_user=to_user, text=fields.get("Content", ""), dedup_key=key)


# --- out ---------------------------------------------------------------------------------------------------
# WeChat errcodes: token problems and throttling are retried, everything else is final.
RETRY_ERRORS = {
    -1: "system busy",
    40001: "access token invalid",
    40014: "access token invalid",
    42001: "access token expired",
    45009: "API quota reached",
}
FINAL_ERRORS = {
    40003: "invalid openid",
    43004: "user has not followed the account",
    44002: "empty message",
    45015: "outside the 48-hour reply window",
    45047: "reply quota for this user reached",
}
UNREACHABLE_ERRORS = {40003, 43004, 45015}
# errcodes meaning "this access token is no good": fetch a fresh one (when the AppSecret is known) and try again.
TOKEN_ERRORS = {40001, 40014, 42001}


def _renew_with(api_base: str):
    def fetch(row) -> tuple[str, str] | None:
        if not (row.secret and row.app_id):
            return None
        body = {"grant_type": "client_credential", "appid": row.app_id, "secret": row.secret}
        response = post(api_base.rstrip("/") + "/cgi-bin/stable_token", policy=RENEW_POLICY, json=body)
        data = json_body(response) if not isinstance(response, SendResult) and response.status_code == 200 else None
        token = (data or {}).get("access_token")
        if not isinstance(token, str) or not token:
            logger.warning(
                "WeChat token refresh for account %s refused: %s",
                row.account_id,
                error_code((data or {}).get("errcode")),
            )
            return None
        return token, ""

    return fetch


class WeChatType(ChannelType):
    kind = "wechat"
    label = "WeChat OA"
    max_length = 2000  # customer-service text messages (2048 bytes of content in the passive reply)
    max_tps = 20.0
    daily_quota = 500_000  # customer-service API calls per day for a verified service account
    # Customer-service messages: within 48 hours of the follower's last message.
    reaches = REACH_FOLLOWERS_IN_WINDOW
    window_hours = 48
    per_window = 5
    config_fields = ("app_id", "token", "encoding_aes_key", "secret", "access_token", "api_base", "daily_quota")
    signing_field = "token"
    inline_reply = True

    # --- in ---
    def handshake(self, request, config) -> HttpResponse | None:
        """The GET WeChat sends when the URL is configured: echo ``echostr`` once the signature checks."""
        if request.method != "GET":
            return None
        query = request.GET
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        echostr = query.get("echostr", "")
        msg_signature = query.get("msg_signature")
        if msg_signature:
            verify_signature(token=config.token, timestamp=timestamp, nonce=nonce, given=msg_signature, encrypt=echostr)
            echostr = cipher_for(config).decrypt(echostr)
        else:
            verify_signature(token=config.token, timestamp=timestamp, nonce=nonce, given=query.get("signature"))
        freshness_check(timestamp)
        return HttpResponse(echostr, content_type="text/plain; charset=utf-8")

    def receive(self, request, config, body: bytes) -> InboundEvent:
        query = request.GET
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if safe_mode(request):
            envelope = parse_xml(body)
            encrypt = envelope.get("Encrypt")
            if not encrypt:
                raise ValidationFailed("Missing Encrypt.")
            verify_signature(
                token=config.token, timestamp=timestamp, nonce=nonce, given=query.get("msg_signature"), encrypt=encrypt
            )
            freshness_check(timestamp)
            fields = parse_xml(cipher_for(config).decrypt(encrypt).encode())
        else:
            verify_signature(token=config.token, timestamp=timestamp, nonce=nonce, given=query.get("signature"))
            freshness_check(timestamp)
            fields = parse_xml(body)
        message = parse_message(fields)
        kind = {"text": "message", "subscribe": "follow", "unsubscribe": "unfollow"}.get(message.kind, message.kind)
        return InboundEvent(
            kind=kind,
            external_id=message.openid,
            text=message.text,
            dedup_key=message.dedup_key,
            payload={"kind": message.kind, "openid": message.openid, "to_user": message.to_user},
            handled=message.handled,
            event_type=message.kind,
        )

    def reply_response(self, request, config, event: InboundEvent, reply_text: str | None) -> HttpResponse:
        if not reply_text:
            # WeChat's documented "nothing to say" answer; it neither retries nor shows an error to the user.
            return HttpResponse("success", content_type="text/plain")
        xml = text_reply_xml(to_user=event.external_id, from_user=event.payload.get("to_user", ""), content=reply_text)
        if safe_mode(request):
            xml = encrypted_envelope(token=config.token, cipher=cipher_for(config), xml=xml)
        return HttpResponse(xml, content_type="application/xml; charset=utf-8")

    def parse_stored(self, payload: dict) -> InboundEvent:
        kind = {"text": "message", "subscribe": "follow", "unsubscribe": "unfollow"}.get(payload.get("kind"), "")
        return InboundEvent(kind=kind, external_id=payload.get("openid", ""), text="", dedup_key="", payload=payload)

    def stored_citizen_id(self, payload: dict) -> str | None:
        value = payload.get("openid")
        return value if isinstance(value, str) else None

    def without_text(self, payload: dict) -> dict:
        return payload

    # --- out ---
    def token_refresh(self, config, stale_token: str) -> str | None:
        return token_renew(config, stale_token, _renew_with(config.api_base))

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = True) -> SendResult:
        text = self.render(message)
        body = json.dumps(
            {"touser": recipient.external_id, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False
        ).encode()
        if not config.access_token:
            self.token_refresh(config, "")
        policy = policy_for(config, self, once=once)
        url = config.api_base.rstrip("/") + "/cgi-bin/message/custom/send"
        for attempt in range(2):
            used_token = config.access_token
            response = post(
                url,
                policy=policy,
                params={"access_token": used_token},
                headers={"Content-Type": "application/json"},
                content=body,
            )
            if isinstance(response, SendResult):
                return response
            data = json_body(response)
            if response.status_code != 200 or data is None:
                return SendResult(FAILED, http_error_summary(response.status_code))
            code = data.get("errcode", 0)
            if code in TOKEN_ERRORS and attempt == 0 and self.token_refresh(config, used_token):
                continue
            break
        if code == 0:
            return SendResult(SENT, provider_id=str(data.get("msgid", "")))
        if code in RETRY_ERRORS:
            return SendResult(RETRY, f"WeChat {code}: {RETRY_ERRORS[code]}", retry_after=60.0)
        status = UNREACHABLE if error_code(code) in UNREACHABLE_ERRORS else FAILED
        return SendResult(status, code_error_summary("WeChat", code, FINAL_ERRORS))


def safe_mode(request) -> bool:
    return request.GET.get("encrypt_type", "raw").lower() == "aes"


def cipher_for(config) -> AESCipher:
    try:
        return AESCipher(config.encoding_aes_key, config.app_id)
    except ValueError as exc:
        # A misconfigured account, not the caller's fault; still a clear refusal rather than a 500.
        raise ValidationFailed("Safe mode is not configured for this account.", code="not_configured") from exc


TYPE = WeChatType()
