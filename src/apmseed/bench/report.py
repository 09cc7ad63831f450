"""The report of a run: markdown for BENCHMARKS.md, a JSON summary for scripts, and the issue's targets, each
with the value measured and whether it is met. Figures are ratios within one run, so they compare like with
like on whatever machine ran them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apmseed.bench.exporters import SECTION as EXPORTERS_SECTION
from apmseed.bench.exporters import section as exporters_section
from apmseed.bench.steps import ProfileRun, Step
from apmseed.bench.suite import Suite

GB_IN_MIB = 1e9 / 2**20  # the "1.5 GB", in decimal gigabytes
REALISM_TARGET = "metric points with incidents and cascades within 20 % of without"


@dataclass(frozen=True)
class Target:
    name: str
    threshold: float
    unit: str  # "ratio", "rows/s", "s", "MiB"
    below: bool  # met when the value is below the threshold (time, memory), else at or above it
    measure: Callable[[ProfileRun], float | None]
    only: str | None = None  # the one profile it applies to

    def met(self, value: float) -> bool:
        return value < self.threshold if self.below else value >= self.threshold


def _rate(key: str) -> Callable[[ProfileRun], float | None]:
    return lambda run: run.steps[key].rate if key in run.steps else None


def _wall(run: ProfileRun) -> float | None:
    step = run.steps.get("seed")
    return step.wall if step and not step.failed else None


def _rss(run: ProfileRun) -> float | None:
    step = run.steps.get("seed")
    return step.rss_mib if step and not step.failed else None


TARGETS = (
    Target("metric points load >= 70 % of raw COPY rows/s (keys rebuilt at the end)", 0.70, "ratio", False,
           lambda run: run.ratio("load:metric_point")),
    Target("issue 2: metric points >= 50 % of raw COPY rows/s (the COPY, generation overlapped; keys after it)",
           0.50, "ratio", False, lambda run: run.ratio("copy:metric_point")),
    Target("calls load >= 70 % of raw COPY rows/s (keys rebuilt at the end)", 0.70, "ratio", False,
           lambda run: run.ratio("load:call")),
    Target("logs load >= 70 % of raw COPY rows/s (keys rebuilt at the end)", 0.70, "ratio", False,
           lambda run: run.ratio("load:log_entry")),
    Target("entity rows through factories >= 50,000 rows/s", 50_000, "rows/s", False, _rate("entities")),
    Target("export jsonl >= 70 % of the row_to_json baseline", 0.70, "ratio", False, lambda run: run.ratio("export")),
    Target(REALISM_TARGET, 0.80, "ratio", False, lambda run: run.ratio("points:incidents")),
    Target("xl seeds end to end in under 3 minutes", 180.0, "s", True, _wall, only="xl"),
    Target("xl seed peak RSS under 1.5 GB", 1.5 * GB_IN_MIB, "MiB", True, _rss, only="xl"),
)
QUICKSTART_TARGET_S = 10.0


@dataclass
class Outcome:
    target: str
    profile: str
    value: float | None
    threshold: float
    unit: str
    met: bool | None  # None: not measured in this run

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "profile": self.profile, "value": self.value, "threshold": self.threshold,
                "unit": self.unit, "met": self.met}


def outcomes(suite: Suite) -> list[Outcome]:
    result = []
    for target in TARGETS:
        runs = [r for r in suite.runs if target.only in (None, r.profile.name)]
        if not runs:
            result.append(Outcome(target.name, target.only or "-", None, target.threshold, target.unit, None))
        for run in runs:
            value = target.measure(run)
            result.append(Outcome(target.name, run.profile.name, value, target.threshold, target.unit,
                                  None if value is None else target.met(value)))
    name = f"quickstart (fresh data directory) in under {QUICKSTART_TARGET_S:.0f} s"
    fresh = suite.quickstart[0] if suite.quickstart else None
    value = fresh.seconds if fresh and not fresh.failed else None
    result.append(Outcome(name, "small", value, QUICKSTART_TARGET_S, "s",
                          None if value is None else value < QUICKSTART_TARGET_S))
    return result


# -- formatting ------------------------------------------------------------------------------------------------
def fmt_int(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return {"ratio": f"{value:.2f}", "rows/s": f"{value:,.0f} rows/s", "s": f"{value:.1f} s",
            "MiB": f"{value:,.0f} MiB"}[unit]


def fmt_ratio(run: ProfileRun, step: Step) -> str:
    if step.baseline == step.key:
        return "1.00 (baseline)"
    ratio = run.ratio(step.key)
    return f"{ratio:.2f}" if ratio is not None else "-"


def command_line(suite: Suite) -> str:
    """The command that reproduces this run (the server URL only when one was given, without its password)."""
    from sqlalchemy import make_url

    from apmseed import db

    o = suite.options
    main = [p for p in o.profiles if p != "xl"]
    parts = ["apmseed bench", "--profiles", ",".join(main)] if main else ["apmseed bench"]
    if "xl" in o.profiles:
        parts.append("--xl")
    if o.scale:
        parts += ["--scale", f"{o.scale:g}"]
    if o.repeat > 1:
        parts += ["--repeat", str(o.repeat)]
    if not o.quickstart:
        parts.append("--skip-quickstart")
    if o.exporters:
        parts.append("--exporters" + (" --mongo-url URL" if o.mongo_url else ""))
    if o.database_url:
        parts += ["--database-url", make_url(db.normalise_url(o.database_url)).render_as_string()]
    return " ".join(parts)


def summary_table(suite: Suite) -> list[str]:
    """The profiles side by side: sizes, wall time and peak RSS, and each rate with its ratio."""
    runs = suite.runs
    out = ["| | " + " | ".join(r.profile.name for r in runs) + " |", "|---|" + "---:|" * len(runs)]

    def row(label: str, cell: Callable[[ProfileRun], str]) -> None:
        out.append(f"| {label} | " + " | ".join(cell(r) for r in runs) + " |")

    def step_cell(key: str, attr: str) -> Callable[[ProfileRun], str]:
        def cell(run: ProfileRun) -> str:
            step = run.steps.get(key)
            if step is None:
                return "-"
            if step.failed:
                return "failed"
            value = getattr(step, attr)
            if value is None:
                return "-"
            return f"{value:,.0f}" if attr == "rss_mib" else f"{value:.1f}"
        return cell

    def rate_cell(key: str) -> Callable[[ProfileRun], str]:
        def cell(run: ProfileRun) -> str:
            step = run.steps.get(key)
            if step is None or step.failed:
                return "-" if step is None else "failed"
            ratio = run.ratio(key)
            return fmt_int(step.rate) + (f" ({ratio:.2f})" if ratio is not None else "")
        return cell

    row("infrastructure entities / services / endpoints",
        lambda r: f"{r.profile.entities:,} / {r.profile.services:,} / {r.profile.endpoints:,}")
    row("metric points", lambda r: fmt_int(r.counts.get("metric_point", r.profile.points)))
    row("calls / log entries", lambda r: f"{fmt_int(r.counts.get('call'))} / {fmt_int(r.counts.get('log_entry'))}")
    row("rows seeded, all tables", lambda r: fmt_int(sum(r.counts.values()) if r.counts else None))
    row("seed: wall time, process start included (s)", step_cell("seed", "wall"))
    row("seed: peak RSS (MiB)", step_cell("seed", "rss_mib"))
    row("export jsonl: wall time, process start included (s)", step_cell("export", "wall"))
    row("export jsonl: peak RSS (MiB)", step_cell("export", "rss_mib"))
    row("raw binary COPY baseline (rows/s)", rate_cell("copy"))
    row("raw COPY + PK + FK: PostgreSQL's own constrained load (rows/s, ratio to raw COPY)", rate_cell("copy_keys"))
    row("metric points load, rows/s (ratio to raw COPY)", rate_cell("load:metric_point"))
    row("metric points load / PostgreSQL's own constrained load", lambda r: _vs(r, "load:metric_point", "copy_keys"))
    row("metric points COPY alone, generation overlapped, keys after, rows/s (ratio to raw COPY)",
        rate_cell("copy:metric_point"))
    row("calls load, rows/s (ratio to raw COPY)", rate_cell("load:call"))
    row("logs load, rows/s (ratio to raw COPY)", rate_cell("load:log_entry"))
    row("entity rows through factories, rows/s", rate_cell("entities"))
    row("row_to_json baseline (rows/s)", rate_cell("json_base"))
    row("export jsonl, rows/s (ratio to row_to_json)", rate_cell("export"))
    row("1.0.0 seed without a scenario: metric points / point phase, points/s", rate_cell("points:plain"))
    row("1.0.0 seed with incidents and cascades: metric points / point phase, points/s (ratio to without)",
        rate_cell("points:incidents"))
    row("1.0.0 seed without a scenario: metric points / whole seed, points/s", rate_cell("points:plain:seed"))
    row("1.0.0 seed with incidents and cascades: metric points / whole seed, points/s (ratio to without)",
        rate_cell("points:incidents:seed"))
    return out


def _vs(run: ProfileRun, key: str, base: str) -> str:
    a, b = run.steps.get(key), run.steps.get(base)
    return f"{a.rate / b.rate:.2f}" if a and b and a.rate and b.rate else "-"


def targets_table(suite: Suite) -> list[str]:
    out = ["| target | profile | measured | met |", "|---|---|---:|---|"]
    for o in outcomes(suite):
        met = "not run" if o.met is None else ("**yes**" if o.met else "**no**")
        if o.met is None and o.profile == "xl":
            met = "not run (pass --xl)"
        out.append(f"| {o.target} | {o.profile} | {fmt_value(o.value, o.unit)} | {met} |")
    return out


def steps_table(suite: Suite) -> list[str]:
    lines = ["| profile | step | rows | seconds | rows/s | ratio to baseline | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    pairs = [(run, s) for run in suite.runs for s in run.steps.values()]
    pairs += [(None, s) for s in suite.quickstart]
    for run, s in pairs:
        profile = run.profile.name if run else "small"
        rss = f"{s.rss_mib:,.0f}" if s.rss_mib is not None else "-"
        if s.failed:
            lines.append(f"| {profile} | {s.name}: FAILED ({s.error}) | - | - | - | - | - |")
            continue
        ratio = fmt_ratio(run, s) if run else "-"
        lines.append(f"| {profile} | {s.name} | {fmt_int(s.rows)} | {s.seconds:.2f} | {fmt_int(s.rate)} | "
                     f"{ratio} | {rss} |")
    return lines


SLOWEST_TABLES = 6


def tables_table(run: ProfileRun) -> list[str]:
    """metric_point, call and log_entry, then the slowest other tables to load."""
    copy = run.steps.get("copy")
    base = copy.rate if copy else None
    named = [t for t in ("metric_point", "call", "log_entry") if t in run.tables]
    others = sorted((t for t in run.tables if t not in named), key=lambda t: -(run.tables[t]["load_seconds"] or 0))
    lines = [f"**{run.profile.name}**", "", "| table | rows | COPY (s) | load incl. keys (s) | rows/s | "
             "ratio to raw COPY |", "|---|---:|---:|---:|---:|---:|"]
    for table in named + others[:SLOWEST_TABLES]:
        info = run.tables[table]
        load, rows = info["load_seconds"], info["rows"]
        rate = rows / load if load else None
        copy_s = f"{info['copy_seconds']:.2f}" if info["copy_seconds"] is not None else "-"
        lines.append(f"| {table}{'' if info['keys_deferred'] else ' (keys checked per row)'} | {rows:,} | {copy_s} | "
                     f"{load or 0:.2f} | {fmt_int(rate)} | "
                     f"{f'{rate / base:.2f}' if rate and base else '-'} |")
    return lines


REALISM_VARIANTS = (("points:plain", "without a scenario"), ("points:incidents", "with incidents and cascades"))
GENERATING = "  producer: generate points (thread)"


def realism_table(suite: Suite) -> list[str]:
    """Step 5 side by side: both rates of each variant, and their ratio."""
    lines = ["| profile | seed of dataset 1.0.0 | metric points | point phase (s) | of it, generating in the "
             "producer thread (s) | points/s, point phase | whole seed (s) | points/s, whole seed | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in suite.runs:
        for key, what in REALISM_VARIANTS:
            step, whole, info = run.steps.get(key), run.steps.get(f"{key}:seed"), run.realism.get(key)
            if step is None:
                continue
            if info is None or whole is None:
                lines.append(f"| {run.profile.name} | {what}: FAILED ({step.error}) | - | - | - | - | - | - | - |")
                continue
            generating = info["phases"].get(GENERATING)
            lines.append(f"| {run.profile.name} | {what} | {fmt_int(info['points'])} | {step.seconds:.2f} | "
                         f"{'-' if generating is None else f'{generating:.2f}'} | {fmt_int(step.rate)} | "
                         f"{whole.seconds:.2f} | {fmt_int(whole.rate)} | {fmt_int(whole.rss_mib)} |")
        ratios = [run.ratio("points:incidents"), run.ratio("points:incidents:seed")]
        if any(r is not None for r in ratios):
            point, seed = (f"**{r:.2f}**" if r is not None else "-" for r in ratios)
            lines.append(f"| {run.profile.name} | ratio, with incidents / without | | | | {point} | | {seed} | |")
    return lines


def realism_phases(run: ProfileRun) -> list[str]:
    """The two 1.0.0 seeds' phases side by side: where the incidents' cost (if any) goes."""
    plain, incidents = (run.realism.get(key, {}).get("phases") for key, _ in REALISM_VARIANTS)
    if not plain or not incidents:
        return []
    keys = list(dict.fromkeys([*plain, *incidents]))
    lines = [f"**{run.profile.name}: the two 1.0.0 seeds, phase by phase**", "",
             "| phase | without (s) | with incidents and cascades (s) |", "|---|---:|---:|"]
    for key in keys:
        cells = (f"{d[key]:.2f}" if key in d else "-" for d in (plain, incidents))
        lines.append(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {' | '.join(cells)} |")
    return lines


def scenario_line(run: ProfileRun) -> str:
    d = run.scenario
    if not d:
        return f"- {run.profile.name}: no scenario"
    return (f"- {run.profile.name}: {d['services']} declared services in a call topology, {d['hosts']} hosts "
            f"running them, {d['incidents']} incidents of all {d['anomalyTypes']} anomaly types (the cascade roots "
            f"and the release's trigger included), {d['cascades']} cascades reaching {d['cascadeHops']} more "
            f"services and hosts, {d['releases']} release regression, {d['surges']} traffic surge")


def phase_table(title: str, total: float, phases: dict[str, float]) -> list[str]:
    lines = [f"**{title}** (wall {total:.2f} s)", "", "| phase | seconds | share |", "|---|---:|---:|"]
    small = [k for k, v in phases.items() if k.startswith("dataset ") and v < 0.01 * total]
    tail = [k for k in phases if k.startswith(("(", "  orjson"))]
    for key, seconds in phases.items():
        if key in small or key in tail:
            continue
        share = "" if key.startswith(("(", "  ")) or total <= 0 else f"{100 * seconds / total:.0f} %"
        lines.append(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {seconds:.2f} | {share} |")
    if small:
        seconds = sum(phases[k] for k in small)
        lines.append(f"| {len(small)} other datasets, each under 1 % | {seconds:.2f} | "
                     f"{100 * seconds / total:.0f} % |")
    for key in tail:
        lines.append(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {phases[key]:.2f} | |")
    return lines


def markdown(suite: Suite, carried: str | None = None) -> str:
    """The whole report. `carried`: an exporters section from an earlier run, kept when this run did not
    measure the exporters (it states its own baseline)."""
    out = ["# apmseed benchmarks", "",
           "Generated by `apmseed bench` (see benchmarks/README.md). A measurement on one machine, not a test: every "
           "step runs in a fresh database on the same PostgreSQL server, in the same run, and every figure is a "
           "ratio to a raw PostgreSQL baseline measured in that run.", "", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in suite.machine.items()]
    out.append(f"- load average (1, 5, 15 min) at start / end of the run: {suite.loads[0]} / {suite.loads[1]} "
               "(anything well above 0 means other work shared the CPUs)")
    out += ["", "## Reproduce", "", "```sh", command_line(suite),
            "make bench          # apmseed bench --profiles medium,large (make bench XL=1 adds --xl)",
            "python benchmarks/bench.py --profiles medium,large --xl   # the same code, run from a checkout",
            "```", "",
            "Without --database-url (or APMSEED_DATABASE_URL) the run starts an embedded PostgreSQL in a temporary "
            "directory. The server needs CREATE DATABASE rights; CHECKPOINT before each step needs superuser.",
            "", "## Summary", ""]
    out += summary_table(suite)
    out += ["", "Loads are rows / (COPY + dropping and rebuilding the table's keys, indexes and foreign keys), so "
            "constraints are enforced at the end; the raw COPY baseline loads the same number of metric-point rows "
            "into a table without constraints. Wall time and peak RSS are the child process's (wait4).",
            "", "## Targets", ""]
    out += targets_table(suite)
    out += ["", "## Results", ""]
    out += steps_table(suite)
    best_of = f"Each figure is the fastest of {suite.options.repeat} rounds. " if suite.options.repeat > 1 else ""
    out += ["", best_of + "Ratios: loads against step 1 (same server, buffer pre-built); export rows/s (records + "
            "points) against the row_to_json baseline; step 5 with incidents against step 5 without, measure for "
            "measure. Seed seconds are inside the process; the summary's wall "
            "times include process start.", "", "## Loading per table", ""]
    for run in suite.runs:
        if run.tables:
            out += [*tables_table(run), ""]
    out += ["## Incidents and cascades", "",
            "Issue #4: with incidents and cascades enabled, the metric-point rate stays within 20 % of the rate "
            "without them. Step 5 seeds dataset 1.0.0 (the world and its metric points: where the signals are "
            "generated, vectorised, and streamed to COPY) twice in the same run, each in a child process and a "
            "fresh database: without a scenario, then with `bench-incidents`, a scenario of the same sizes built "
            "with `Scenario.build` (src/apmseed/bench/scenario.py), every declared incident in its own slot of the "
            "window:", ""]
    out += [scenario_line(run) for run in suite.runs]
    out += ["", *realism_table(suite), "",
            "Point phase: the metric-point COPY, the producer thread generating and encoding the points overlapped "
            "with it, plus dropping and rebuilding metric_point's keys (its load as in step 3). Whole seed: "
            "`seeding.seed` inside the process (world build, every COPY, integrity checks); peak RSS is the "
            "child's (wait4). The point-phase ratio is the target's figure.", ""]
    for run in suite.runs:
        if phases := realism_phases(run):
            out += [*phases, ""]
    out += ["## Where the time goes", ""]
    for run in suite.runs:
        seed = run.steps.get("seed")
        if seed is None or seed.failed:
            continue
        out += [*phase_table(f"{run.profile.name}: seed", seed.seconds, run.seed_phases), ""]
        if run.statements:
            out += ["Slowest SQL statements of that seed (sent through SQLAlchemy; COPY is not among them):", "",
                    "| statement | calls | seconds |", "|---|---:|---:|"]
            out += [f"| `{text.replace('|', '/')}` | {calls} | {seconds:.2f} |"
                    for text, (calls, seconds) in run.statements]
            out.append("")
        export = run.steps.get("export")
        if export is not None and not export.failed:
            phases = {**run.export_phases, "(output: MiB of JSONL)": run.export_bytes / 2**20}
            out += [*phase_table(f"{run.profile.name}: export jsonl", export.seconds, phases), ""]
    out += ["Indented rows are parts of the row above them (the producer thread overlaps the COPY); rows in "
            "parentheses are context, not part of the wall time.", "", "## Notes", "",
            f"- Seed and export are single Python processes talking to a server on the same machine "
            f"({suite.machine.get('CPUs (nproc)', '?')} CPUs): client and server compete for CPU, so ratios on "
            "other machines can differ.",
            "- Peak RSS is read by a tiny launcher process with wait4, so the benchmark's own buffers (the baseline "
            "rows) do not count.", ""]
    if suite.exporters is not None:
        out += exporters_section(suite.exporters, command_line(suite))
    elif carried:
        out += [carried.rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


def carried_exporters(path: Path) -> str | None:
    """The exporters section of an existing report, if any."""
    if not path.exists():
        return None
    text = path.read_text()
    return EXPORTERS_SECTION + text.split(EXPORTERS_SECTION, 1)[1] if EXPORTERS_SECTION in text else None


def replace_exporters(path: Path, section_lines: list[str]) -> None:
    """Put a new exporters section in an existing report (or start one)."""
    existing = path.read_text() if path.exists() else ""
    head = existing.split(EXPORTERS_SECTION, 1)[0].rstrip()
    path.write_text((head + "\n\n" if head else "") + "\n".join(section_lines).rstrip() + "\n")


def summary(suite: Suite) -> dict[str, Any]:
    """Everything the markdown shows, for scripts."""
    return {
        "command": command_line(suite),
        "machine": suite.machine,
        "loadAverage": {"start": suite.loads[0], "end": suite.loads[1]},
        "profiles": {run.profile.name: {
            "options": run.profile.options(),
            "scenario": run.scenario,
            "realism": {**run.realism, "ratio": run.ratio("points:incidents"),
                        "ratioWholeSeed": run.ratio("points:incidents:seed")},
            "datasetVersion": run.dataset_version,
            "counts": run.counts,
            "steps": {k: {**s.as_dict(), "ratio": run.ratio(k)} for k, s in run.steps.items()},
            "tables": run.tables,
            "seedPhases": run.seed_phases,
            "exportPhases": run.export_phases,
        } for run in suite.runs},
        "quickstart": [s.as_dict() for s in suite.quickstart],
        "targets": [o.as_dict() for o in outcomes(suite)],
        "exporters": suite.exporters.as_dict() if suite.exporters else None,
    }
