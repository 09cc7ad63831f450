"""Dataset 1.3.0: releases, traces, correlation. (Being built: fills nothing yet.)"""

from __future__ import annotations

from apmseed.layers import LayerContext, Rows


def fill(ctx: LayerContext) -> Rows:
    return {}
