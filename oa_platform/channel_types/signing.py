"""The one HMAC helper: how the platform signs what it posts to an agency's endpoint (chat replies and notices
to the generic channel) and how it checks what the agency posts back, plus the constant-time comparison every
inbound signature check uses.

Scheme (documented in the README): ``X-OA-Timestamp: <Unix seconds>`` and
``X-OA-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-OA-Signature"
TIMESTAMP_HEADER = "X-OA-Timestamp"


def hmac_sha256(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` with ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature of a body sent at ``timestamp`` (what follows ``sha256=``)."""
    return hmac_sha256(secret, str(timestamp).encode() + b"." + body)


def signed_headers(*, secret: str, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    """The headers of a signed JSON post (timestamp: now unless given)."""
    timestamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: "sha256=" + signature(secret=secret, timestamp=timestamp, body=body),
        "Content-Type": "application/json",
    }


def digest_equal(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive, as providers vary)."""
    if not given:
        return False
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())
