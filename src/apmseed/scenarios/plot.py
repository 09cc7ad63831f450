"""`apmseed scenarios plot`: a scenario's services over time with its ground truth shaded, as a PNG.

It draws the world `seed --scenario` would seed (same seed, same end time, the very same numbers from
`World.bundle_values`), built in memory: the picture needs no database and shows what a seeded database holds.
matplotlib is an optional extra (`apmseed[plot]`), imported only here and only when drawing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from apmseed.errors import ApmseedError
from apmseed.scenarios.plan import Effect, Story
from apmseed.scenarios.spec import ScenarioSpec, format_duration, suggest
from apmseed.scenarios.world import Bundle, World, build_world

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_SERVICES = 6  # more rows than this and the panels get too flat to read
PANELS = (("calls", "SUM", "calls"), ("erroneousCalls", "SUM", "erroneous calls"),
          ("latency", "P50", "latency P50 (ms)"))
HOP_COLOURS = ("#d62728", "#ff7f0e", "#e8b600", "#9aa61c")  # hop 0 (the root), 1, 2, 3 and beyond
TEXT_COLOURS = ("#b01c1c", "#c45a00", "#8a6d00", "#5f6a10")  # the same, dark enough to read on white
SURGE_COLOUR = "#1f77b4"
RELEASE_COLOUR = "#7b3fa0"
ISSUE_COLOUR = "#9a9a9a"
LINE_COLOUR = "#1b2a3a"
ROW_IN, HEAD_LINE_IN, WIDTH_IN, DPI = 1.6, 0.24, 15.0, 100
TIMES, DASH = "\u00d7", "\u2013"  # typographic, spelled out for the linter
LABEL_BOX = {"facecolor": "white", "alpha": 0.75, "linewidth": 0, "pad": 1}  # keeps labels readable on lines
INSTALL_FIX = "pip install 'apmseed[plot]'"


@dataclass(frozen=True)
class Row:
    """One service drawn: its name and the metric bundle that holds its seeded series."""

    name: str
    bundle: Bundle

    @property
    def service_id(self) -> str:
        return str(self.bundle.target["service_id"])


def default_seed(spec: ScenarioSpec) -> int:
    """What `seed --scenario` uses without --seed: the scenario's seed, else 42."""
    return spec.seed if spec.seed is not None else 42


def require_matplotlib() -> None:
    """Fail before any work when the optional extra is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ApmseedError("drawing needs matplotlib, which is not installed", INSTALL_FIX) from None


def check_out(out: Path) -> None:
    """The PNG's directory must exist (we do not create directories behind the user's back)."""
    if out.is_dir():
        raise ApmseedError(f"--out {str(out)!r} is a directory", "give a file name such as scenario.png")
    if not out.parent.is_dir():
        raise ApmseedError(f"--out {str(out)!r}: directory {str(out.parent)!r} does not exist",
                           "create it first, or write the PNG elsewhere")


def topology_order(spec: ScenarioSpec) -> list[str]:
    """Declared services callers first (as on a service map: entry points on top, stores at the bottom),
    ties in declaration order; calls cannot form circles, but anything left over keeps declaration order."""
    names = [s.name for s in spec.services]
    callers = {n: {s.name for s in spec.services if n in s.calls} for n in names}
    order: list[str] = []
    while len(order) < len(names):
        ready = [n for n in names if n not in order and callers[n] <= set(order)]
        order.append(ready[0] if ready else next(n for n in names if n not in order))
    return order


def service_rows(world: World, spec: ScenarioSpec, requested: Sequence[str] | None = None) -> list[Row]:
    """The services to draw: the requested ones in the given order, else the declared ones in topology order;
    with more than MAX_SERVICES, those the scenario's stories touch come first."""
    bundles: dict[str, Bundle] = {}
    for bundle in world.bundles:  # declared services get the first bundles, so the first of a label wins
        if bundle.target["entity_type"] == "SERVICE":
            bundles.setdefault(bundle.target["label"], bundle)
    if requested:
        missing = [n for n in requested if n not in bundles]
        if missing:
            declared = [s.name for s in spec.services] or sorted(bundles)[:10]
            close = suggest(missing[0], bundles)
            hint = f"did you mean {close!r}? " if close else ""
            raise ApmseedError(f"--services: no service {missing[0]!r} with metrics in scenario {spec.name!r}",
                               f"{hint}declared services: {', '.join(declared)}")
        return [Row(n, bundles[n]) for n in dict.fromkeys(requested)]
    names = [n for n in topology_order(spec) if n in bundles]
    if not names:  # a scenario that declares no services: the world's first ones
        names = list(bundles)[:MAX_SERVICES]
    if len(names) > MAX_SERVICES:
        touched = {e.target.get("service_id") for s in world.stories if s.cause != "issue" for e in s.effects}
        keep = sorted(names, key=lambda n: (bundles[n].target["service_id"] not in touched, names.index(n)))
        names = [n for n in names if n in keep[:MAX_SERVICES]]
    if not names:
        raise ApmseedError(f"scenario {spec.name!r} has no service with metrics to draw",
                           "declare services, or raise `series:` in its profile")
    return [Row(n, bundles[n]) for n in names]


def plot_scenario(spec: ScenarioSpec, out: Path, seed: int | None = None,
                  services: Sequence[str] | None = None) -> list[str]:
    """Build the scenario's world, draw it to `out` (written under a temporary name, then renamed) and
    return the services drawn."""
    require_matplotlib()
    check_out(out)
    seed = default_seed(spec) if seed is None else seed
    world = build_world(spec.profile, seed, spec.end_ms, spec)
    rows = service_rows(world, spec, services)
    figure = draw(world, spec, rows)
    write_png(figure, out)
    return [r.name for r in rows]


# --- drawing -------------------------------------------------------------------------------------------------------


def _num(ms: Any) -> Any:
    """Epoch milliseconds -> matplotlib date numbers (days), so spans and lines need no unit conversion."""
    from matplotlib import dates

    return dates.date2num(np.asarray(ms, dtype="int64").astype("datetime64[ms]"))


def _clock(ms: int, long: bool) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m-%d %H:%M" if long else "%H:%M")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _full(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def draw(world: World, spec: ScenarioSpec, rows: list[Row]) -> Figure:
    """Rows are services, columns calls / erroneous calls / latency P50; every ground-truth effect on a row's
    service is shaded across the row (colour = cascade hop), a dotted line marks when each root cause starts,
    deploys are dashed lines, and the random background issues (ground truth too) are greyed."""
    from matplotlib import dates
    from matplotlib.figure import Figure

    ts = _num(world.timestamps())
    long = spec.profile.minutes > 24 * 60 or _day(world.start_ms) != _day(world.end_ms - 1)
    summary = story_lines(world, spec, long)
    lines_in = 0.55 + HEAD_LINE_IN * len(summary)  # title, description, one line per story
    head_in = lines_in + 0.45 + 0.4  # then the legend, then the column titles
    height = head_in + ROW_IN * len(rows) + 0.6
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    left_in = 0.95 + 0.1 * max(len(r.name) for r in rows)  # room for the longest service name
    figure.subplots_adjust(left=left_in / WIDTH_IN, right=0.985, top=1 - head_in / height, bottom=0.6 / height,
                           hspace=0.3, wspace=0.16)
    axes = figure.subplots(len(rows), len(PANELS), sharex=True, squeeze=False)
    axes[0][0].set_xlim(ts[0], _num(world.end_ms))  # shared: labels inside spans are placed against it

    def at(inches: float) -> float:  # figure fraction of a distance from the top
        return 1 - inches / height

    end = _clock(world.end_ms, long) if _day(world.start_ms) == _day(world.end_ms) else _full(world.end_ms)
    step = f"{spec.profile.resolution} min" if spec.profile.resolution > 1 else "min"
    figure.text(0.5, at(0.15), f"{spec.name}  ·  seed {world.seed}  ·  {_full(world.start_ms)} to {end} UTC  ·  "
                               f"one point per {step}", ha="center", va="top", fontsize=14, fontweight="bold")
    figure.text(0.5, at(0.5), spec.description, ha="center", va="top", fontsize=10.5, style="italic",
                color="#555555")
    for i, line in enumerate(summary):
        figure.text(0.5, at(0.5 + HEAD_LINE_IN * (i + 1)), line, ha="center", va="top", fontsize=10,
                    color="#222222")

    stories = [s for s in world.stories if s.cause != "issue"]
    background = [s for s in world.stories if s.cause == "issue"]
    used: set[str] = set()
    for r, row in enumerate(rows):
        values = world.bundle_values(row.bundle)
        seeded = {(m, a) for _, m, a in row.bundle.series}
        for c, (metric, aggregation, title) in enumerate(PANELS):
            ax = axes[r][c]
            if (metric, aggregation) in seeded:
                ax.plot(ts, values[(metric, aggregation)], color=LINE_COLOUR, linewidth=0.9, zorder=3)
            else:
                ax.text(0.5, 0.5, "not seeded (series budget)", transform=ax.transAxes, ha="center",
                        va="center", fontsize=8, color="#777777")
            if r == 0:
                ax.set_title(f"{title} per {step}" if metric != "latency" else title, fontsize=11)
            ax.tick_params(labelsize=8)
            ax.grid(True, color="#e6e6e6", linewidth=0.6)
            ax.set_ylim(bottom=0)
            for story in background:
                for effect in _effects_on(story, row):
                    used.add("issue")
                    start, stop = _num([effect.start_ms, effect.end_ms])
                    ax.axvspan(start, stop, color=ISSUE_COLOUR, alpha=0.12, linewidth=0)
                    ax.axvspan(start, stop, ymin=0, ymax=0.05, color=ISSUE_COLOUR, alpha=0.9, linewidth=0)
            labelled: list[Story] = []
            for story in stories:
                if story.cause == "cascade" and world.start_ms <= story.start_ms < world.end_ms:
                    used.add("start")
                    ax.axvline(_num(story.start_ms), color=HOP_COLOURS[0], linestyle=":", linewidth=1.1)
                if _is_deploy(story, world.end_ms):
                    continue  # a deploy's baseline shift: its dashed line says it
                for effect in _effects_on(story, row):
                    used.add("surge" if story.cause == "traffic" else f"hop{min(effect.hop, 3)}")
                    _shade(ax, story, effect, _hop_type(spec, story, effect), slot=len(labelled) if c == 0 else None)
                    labelled.append(story)
            for release in spec.releases:
                if world.start_ms <= release.at_ms < world.end_ms:
                    used.add("deploy")
                    ax.axvline(_num(release.at_ms), color=RELEASE_COLOUR, linestyle="--", linewidth=1.2)
                    if c == 0 and release.service == row.name:
                        ax.text(_num(release.at_ms), 0.04, f" deploy {release.version or ''}".rstrip(),
                                transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=8,
                                color=RELEASE_COLOUR, fontweight="bold", zorder=5,
                                bbox=LABEL_BOX)
        axes[r][0].set_ylabel(row.name, rotation=0, ha="right", va="center", fontsize=11, fontweight="bold",
                              labelpad=14)
    for ax in axes[-1]:
        locator = dates.AutoDateLocator(minticks=4, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, show_offset=False))
        ax.set_xlabel("time (UTC)", fontsize=9)
    handles = _legend(used)
    if handles:
        figure.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, fontsize=9.5,
                      bbox_to_anchor=(0.5, at(lines_in + 0.08)))
    return figure


def _legend(used: set[str]) -> list[Any]:
    """Only the marks the picture actually has."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    marks = {"hop0": Patch(color=HOP_COLOURS[0], alpha=0.3, label="incident / root cause"),
             "start": Line2D([], [], color=HOP_COLOURS[0], linestyle=":", label="root cause starts"),
             "hop1": Patch(color=HOP_COLOURS[1], alpha=0.3, label="cascade hop 1"),
             "hop2": Patch(color=HOP_COLOURS[2], alpha=0.3, label="cascade hop 2"),
             "hop3": Patch(color=HOP_COLOURS[3], alpha=0.3, label="cascade hop 3+"),
             "surge": Patch(color=SURGE_COLOUR, alpha=0.15, label="traffic surge"),
             "deploy": Line2D([], [], color=RELEASE_COLOUR, linestyle="--", label="deploy"),
             "issue": Patch(color=ISSUE_COLOUR, alpha=0.5, label="unrelated injected issue (also ground truth)")}
    return [mark for key, mark in marks.items() if key in used]


def _is_deploy(story: Story, end_ms: int) -> bool:
    """A release's own story (its service's baseline shifted from the deploy to the end), not an incident
    the deploy triggered."""
    return (story.cause == "release" and story.release is not None and story.type == "level_shift"
            and story.start_ms == story.release[1] and story.end_ms == end_ms)


def _effects_on(story: Story, row: Row) -> list[Effect]:
    """The story's effects on the row's service itself (its endpoints' effects repeat the service's)."""
    return [e for e in story.effects if e.target.get("entity_type") == "SERVICE"
            and e.target.get("service_id") == row.service_id and e.end_ms > e.start_ms]


def _hop_type(spec: ScenarioSpec, story: Story, effect: Effect) -> str:
    """What a hop suffers: the root's type at hop 0, the cascade's `propagates_as` beyond."""
    if effect.hop == 0 or story.cause != "cascade":
        return story.type
    cascade = next((c for c in spec.cascades if c.incident.start_ms == story.start_ms
                    and c.incident.type == story.type), None)
    return cascade.propagates_as if cascade else story.type


def _shade(ax: Axes, story: Story, effect: Effect, kind: str, slot: int | None) -> None:
    """One ground-truth window, and with a `slot` (the row's n-th label, stacked downwards so they do not
    collide) what it is: the root cause, or the hop and its delay."""
    start, end = _num([effect.start_ms, effect.end_ms])
    if story.cause == "traffic":
        ax.axvspan(start, end, color=SURGE_COLOUR, alpha=0.1, linewidth=0)
        text, colour = f"traffic {TIMES}{story.magnitude:g}", SURGE_COLOUR
    else:
        hop = min(effect.hop, len(HOP_COLOURS) - 1)
        ax.axvspan(start, end, color=HOP_COLOURS[hop], alpha=0.25, linewidth=0)
        colour = TEXT_COLOURS[hop]
        if effect.hop == 0:
            root = story.root is not None and story.root.get("service_id") == effect.target.get("service_id")
            what = {"cascade": "root cause", "release": "after a deploy"}.get(story.cause, story.cause)
            text = f"{what}: {kind}" if root or story.cause != "cascade" else f"fails with the root: {kind}"
        else:
            text = f"hop {effect.hop} +{format_duration(effect.start_ms - story.start_ms)}: {kind}"
    if slot is not None:  # inside the axes: text running past its right edge would hide under the next column
        low, high = ax.get_xlim()
        width_in = ax.get_position().width * ax.figure.get_figwidth()
        needed = (len(text) + 1) * 0.075 / width_in * (high - low)  # about 0.075 in per bold 8.5 pt character
        right = start + needed > high - 0.01 * (high - low)
        ax.text(end if right else start, 0.96 - 0.16 * slot, f"{text} " if right else f" {text}",
                transform=ax.get_xaxis_transform(), ha="right" if right else "left", va="top", fontsize=8.5,
                color=colour, fontweight="bold", zorder=5, bbox=LABEL_BOX)


def story_lines(world: World, spec: ScenarioSpec, long: bool, limit: int = 4) -> list[str]:
    """One line of ground truth per scenario story, for the header."""
    def when(a: int, b: int) -> str:
        return f"{_clock(a, long)}{DASH}{_clock(b, long)}"

    lines: list[str] = []
    for story in (s for s in world.stories if s.cause != "issue"):
        root = story.root["label"] if story.root else "every service"
        if story.cause == "traffic":
            lines.append(f"traffic {TIMES}{story.magnitude:g} on {len(story.effects)} entities "
                         f"{when(story.start_ms, story.end_ms)}")
            continue
        if _is_deploy(story, world.end_ms):
            release = next((r for r in spec.releases if r.at_ms == story.start_ms), None)
            version = f" {release.version}" if release and release.version else ""
            lines.append(f"deploy of {root}{version} at {_clock(story.start_ms, long)}: latency "
                         f"{TIMES}{story.magnitude:g} from then on")
            continue
        cause = {"release": "after a deploy"}.get(story.cause, story.cause)
        line = f"{cause}: {story.type} of {root} {when(story.start_ms, story.end_ms)}"
        hops: dict[int, list[Effect]] = {}
        for effect in story.effects:
            if effect.hop > 0 and effect.target.get("entity_type") == "SERVICE":
                hops.setdefault(effect.hop, []).append(effect)
        for _, effects in sorted(hops.items()):
            names = ", ".join(sorted(e.target["label"] for e in effects))
            delay = min(e.start_ms for e in effects) - story.start_ms
            line += f"  →  {names}: {_hop_type(spec, story, effects[0])} +{format_duration(delay)}"
        lines.append(line)
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"… and {len(lines) - limit + 1} more stories (ground_truth.jsonl)"]
    return lines


def write_png(figure: Figure, out: Path) -> None:
    """Write to a temporary name beside `out`, then rename: a reader never sees half a PNG. A 256-colour
    palette keeps the committed picture small (a third of RGBA), and Pillow writes no time or software chunk, so
    the same matplotlib draws the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image  # a dependency of matplotlib

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            image.quantize(256, dither=Image.Dither.NONE).save(handle, "PNG", optimize=True)
        os.replace(tmp, out)
    except OSError as err:
        raise ApmseedError(f"cannot write {str(out)!r}: {err.strerror or err}",
                           "check the directory exists and is writable") from None
    finally:
        tmp.unlink(missing_ok=True)
