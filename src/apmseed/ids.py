"""Deterministic ids in Instana's wire formats, derived from (seed, kind, n) so they never depend on order
of generation elsewhere."""

import base64
import hashlib


def _digest(seed: int, kind: str, n: int, size: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{kind}:{n}".encode(), digest_size=size).digest()


def b64id(seed: int, kind: str, n: int, length: int) -> str:
    """base64url id like an application perspective id (`Av62RoIKQv-A3n6DbMQh9g`)."""
    raw = _digest(seed, kind, n, (length * 3) // 4 + 3)
    return base64.urlsafe_b64encode(raw).decode()[:length]


def hexid(seed: int, kind: str, n: int, length: int) -> str:
    """hex id like a service id (40 hex) or a trace id (16 hex)."""
    return _digest(seed, kind, n, (length + 1) // 2).hex()[:length]


def application_id(seed: int, n: int) -> str:
    return b64id(seed, "application", n, 22)


def service_id(seed: int, n: int) -> str:
    return hexid(seed, "service", n, 40)


def endpoint_id(seed: int, n: int) -> str:
    return b64id(seed, "endpoint", n, 27)


def snapshot_id(seed: int, n: int) -> str:
    return b64id(seed, "snapshot", n, 27)


def event_id(seed: int, n: int) -> str:
    return b64id(seed, "event", n, 22)
