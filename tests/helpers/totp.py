"""RFC 6238 time-based one-time passwords (TOTP with HMAC-SHA-1, RFC 4226's dynamic
truncation), written from the RFCs with only the standard library: an implementation
independent of django-otp's, so that the tests check its codes against another one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct


def hotp(key: bytes, counter: int, *, digits: int = 6) -> str:
    """RFC 4226 section 5.3: HMAC-SHA-1 of the 8-byte big-endian counter, then the 31 bits at
    the offset named by the last nibble, modulo 10^digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def totp(key: bytes, at: float, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 section 4: HOTP of the number of ``step``-second periods since the Unix epoch."""
    return hotp(key, int(at // step), digits=digits)


def key_of(secret: str) -> bytes:
    """The key of a base32 secret as a person types it (any case, spaces, no padding)."""
    text = "".join(secret.split()).upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))
