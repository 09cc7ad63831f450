"""Dataset 1.4.0: access, settings. (Being built: fills nothing yet.)"""

from __future__ import annotations

from apmseed.layers import LayerContext, Rows


def fill(ctx: LayerContext) -> Rows:
    return {}
