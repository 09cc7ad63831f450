"""Dataset layers: each version after 1.0.0 adds tables and fills them from what the database already holds.

Seeding version X directly and upgrading an older seeded database to X run the very same code (1.0.0's world,
then each layer in order, reading the rows already there), so both paths give identical databases."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Rows = dict[str, list[dict[str, Any]]]


@dataclass
class LayerContext:
    conn: Connection
    version: str
    seed: int
    end_ms: int
    options: dict[str, Any]

    def __post_init__(self) -> None:
        # a stream per layer: adding a layer never shifts the random numbers of another
        self.rand = random.Random(f"{self.seed}:{self.version}")

    @property
    def start_ms(self) -> int:
        return self.end_ms - int(self.options["minutes"]) * 60_000

    def rows(self, sql: str, **params: Any) -> list[sa.RowMapping]:
        return list(self.conn.execute(sa.text(sql), params).mappings())


Layer = Callable[[LayerContext], Rows]


def registry() -> dict[str, Layer]:
    from apmseed.layers import v1_1_0, v1_2_0, v1_3_0, v1_4_0

    return {"1.1.0": v1_1_0.fill, "1.2.0": v1_2_0.fill, "1.3.0": v1_3_0.fill, "1.4.0": v1_4_0.fill}
