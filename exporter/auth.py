"""HTTP basic auth against bcrypt hashes, and the optional request rate limit.

Checking a bcrypt hash costs tens of milliseconds, so results are cached, as the exporter
toolkit does. The cache key covers the user, the stored hash *and* the password given
(CVE-2022-46146: a key of the user alone let a wrong password in after a right one). The
key is an HMAC under a per-process random secret, so no password is kept in memory. Unknown
users are checked against a decoy hash, so response time does not tell which users exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

CACHE_SIZE = 1024
# bcrypt hash (cost 10) of a random password nobody knows: the check for unknown users.
_DECOY = b"$2b$10$NEdHr8DJ2KR7qVwtFQuddOyFVgRhAz/TxmsN60YtoiGlH4inLHNHO"


def credentials(header: str | None) -> tuple[bytes, bytes] | None:
    """User and password of an ``Authorization: Basic`` header, as bytes; None if absent."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # http.server decodes header bytes as latin-1: encoding back gives the raw bytes.
        decoded = base64.b64decode(encoded.strip().encode("latin-1"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


class BasicAuth:
    """Checks credentials against ``users`` (name -> bcrypt hash); thread-safe."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = {name.encode(): hashed.encode() for name, hashed in users.items()}
        self._secret = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._bcrypt_lock = threading.Lock()  # one hash at a time: it is CPU-bound

    @property
    def enabled(self) -> bool:
        """Whether any user is configured (otherwise every request is let in)."""
        return bool(self.users)

    def check(self, header: str | None) -> bool:
        """Whether ``header`` carries a configured user and that user's password."""
        given = credentials(header)
        if given is None:
            return False
        user, password = given
        known = user in self.users
        hashed = self.users.get(user, _DECOY)
        key = self._key(user, hashed, password)
        cached = self._get(key)
        if cached is None:
            cached = known and self._verify(password, hashed)
            self._put(key, cached)
        return known and cached

    def _key(self, user: bytes, hashed: bytes, password: bytes) -> bytes:
        message = b"".join(len(p).to_bytes(4, "big") + p for p in (user, hashed, password))
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def _verify(self, password: bytes, hashed: bytes) -> bool:
        with self._bcrypt_lock:
            try:
                return bcrypt.checkpw(password, hashed)
            except ValueError:  # bcrypt 5 refuses passwords over 72 bytes
                return False

    def _get(self, key: bytes) -> bool | None:
        with self._cache_lock:
            value = self._cache.get(key)
            if value is not None:
                self._cache.move_to_end(key)
            return value

    def _put(self, key: bytes, value: bool) -> None:
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)


class RateLimiter:
    """A token bucket: ``burst`` requests at once, then one per ``interval`` seconds."""

    def __init__(self, interval: float, burst: int) -> None:
        self.interval, self.burst = interval, burst
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether requests are limited (the toolkit disables it with interval 0)."""
        return self.interval > 0

    def allow(self) -> bool:
        """Take a token if one is left."""
        if not self.enabled:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) / self.interval)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False
