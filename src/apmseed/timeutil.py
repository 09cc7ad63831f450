"""End-time parsing: ISO 8601 in, epoch milliseconds (floored to the minute) out."""

from __future__ import annotations

from datetime import UTC, datetime

from apmseed.errors import ApmseedError


def floor_minute_ms(moment: datetime) -> int:
    return int(moment.timestamp()) // 60 * 60_000


def parse_end_time(value: str | None) -> int:
    if value is None:
        return floor_minute_ms(datetime.now(UTC))
    return parse_time(value, "--end-time")


def parse_time(value: str, option: str) -> int:
    """ISO 8601 (naive means UTC) to epoch ms, floored to the minute."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApmseedError(f"{option} {value!r} is not an ISO 8601 time",
                           "use e.g. 2025-11-20T15:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 2000 <= moment.year <= 2100:
        raise ApmseedError(f"{option} {value!r} is out of range", "use a time between 2000 and 2100")
    return floor_minute_ms(moment)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
