"""Dataset 1.2.0: website, mobile, logs, synthetics. (Being built: fills nothing yet.)"""

from __future__ import annotations

from apmseed.layers import LayerContext, Rows


def fill(ctx: LayerContext) -> Rows:
    return {}
