"""Dataset 1.5.0: ground truth. The 1.0.0 world's stories become rows: what was injected, where, when, and which
event each affected entity raised. A seed hands over the stories of the world it built; an upgrade plans the
world again from the stored seed, options and scenario (deterministic, and no metric points are needed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from apmseed.layers import LayerContext, Rows
from apmseed.profiles import Profile
from apmseed.scenarios.plan import Story, from_options
from apmseed.scenarios.world import build_world

ENTITY_COLUMNS = ("application_id", "service_id", "endpoint_id", "snapshot_id")


def _entity(target: dict[str, Any] | None) -> dict[str, Any]:
    if target is None:
        return {"entity_type": None, "entity_label": None, **dict.fromkeys(ENTITY_COLUMNS)}
    kind = target["entity_type"]
    row = {"entity_type": kind, "entity_label": target["label"], **dict.fromkeys(ENTITY_COLUMNS)}
    if kind == "INFRASTRUCTURE":
        row["snapshot_id"] = target["snapshot_id"]
    else:
        row["application_id"] = target.get("application_id")
        row["service_id"] = target.get("service_id")
        row["endpoint_id"] = target.get("endpoint_id")
    return row


def fill(ctx: LayerContext) -> Rows:
    if ctx.stories is None:  # an upgrade: plan the world again (the points are not needed for that)
        scenario = from_options(ctx.options, ctx.end_ms)
        stories = build_world(Profile.from_options(ctx.options), ctx.seed, ctx.end_ms, scenario).stories
    else:
        stories = ctx.stories
    releases = _releases(ctx)
    truths: list[dict[str, Any]] = []
    effects: list[dict[str, Any]] = []
    for position, story in enumerate(stories):
        ident = story.ident(ctx.seed, position)
        truths.append(_truth(ident, story, releases))
        for number, effect in enumerate(story.effects):
            effects.append({"ground_truth_id": ident, "position": number, "hop": effect.hop,
                            **_entity(effect.target), "factor": effect.factor, "start_ms": effect.start_ms,
                            "end_ms": effect.end_ms, "event_id": effect.event_id})
    truths = [t for t in truths if t["cause"] != "release" or t["release_id"] is not None]
    kept = {t["id"] for t in truths}
    return {"ground_truth": truths, "ground_truth_effect": [e for e in effects if e["ground_truth_id"] in kept]}


def _releases(ctx: LayerContext) -> dict[tuple[str, int], str]:
    """(service id, deploy time) -> release id, for the scenario's releases the 1.3.0 layer recorded."""
    rows = ctx.conn.execute(sa.text(
        "SELECT DISTINCT rs.service_id, r.start_ms, r.id FROM release r JOIN release_service rs ON rs.release_id = r.id"
        " ORDER BY 1, 2, 3"))
    found: dict[tuple[str, int], str] = {}
    for service_id, start_ms, release_id in rows:
        found.setdefault((service_id, start_ms), release_id)
    return found


def _truth(ident: str, story: Story, releases: dict[tuple[str, int], str]) -> dict[str, Any]:
    return {"id": ident, "type": story.type, "cause": story.cause, "scenario": story.scenario,
            **_entity(story.root), "metric_id": story.metric, "magnitude": story.magnitude,
            "start_ms": story.start_ms, "end_ms": story.end_ms,
            "release_id": releases.get(story.release) if story.release else None}
