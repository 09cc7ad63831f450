"""Shared plumbing: factories build plain dict rows (never ORM objects) so bulk tables can go to COPY."""

from __future__ import annotations

from typing import Any

import factory
import factory.random

rand = factory.random.randgen  # the generator factory_boy's fuzzy declarations draw from


def reseed(seed: int) -> None:
    """Make every factory (fuzzy values and Faker) deterministic for one dataset."""
    factory.random.reseed_random(seed)


def build_rows(factory_cls: type[factory.Factory], count: int, **params: Any) -> list[dict[str, Any]]:
    """Build `count` rows numbered 0..count-1 (sequence reset first, so the same seed gives the same ids)."""
    factory_cls.reset_sequence(0, force=True)
    return factory_cls.build_batch(count, **params)


def choice(options: Any) -> Any:
    return rand.choice(options)


class RowFactory(factory.DictFactory):
    """Base for row factories: `seed` and `n` are parameters every id is derived from."""

    class Params:
        seed = 0
        n = factory.Sequence(lambda n: n)
