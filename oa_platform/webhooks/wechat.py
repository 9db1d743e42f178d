"""WeChat Official Account: signatures, the WXBizMsgCrypt "safe mode" (AES) and XML in/out (no ORM here).

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
import os
import secrets
import struct
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from oa_platform.errors import ValidationFailed
from oa_platform.webhooks.intake import SignatureInvalid, content_key, digest_equal, signing_key_check

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
