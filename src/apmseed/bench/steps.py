"""The steps of one run: baselines in this process, `seed` (the latest dataset, then dataset 1.0.0 without and with
an incident-heavy scenario) and `export jsonl` in child processes whose peak RSS the kernel reports through
wait4, each step in a fresh database on the same server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apmseed
from apmseed import versioning
from apmseed.bench import END_MS, baselines
from apmseed.bench import scenario as bench_scenario
from apmseed.bench.child import POINTS, URL_ENV
from apmseed.bench.server import Server, stop_fallback
from apmseed.profiles import Profile

Log = Callable[[str], None]
LOADED_TABLES = ("metric_point", "call", "log_entry")  # the bulk tables the load targets name
REALISM = ("points:plain", "points:incidents")  # step 5: dataset 1.0.0 without, then with the scenario
REALISM_VERSION = "1.0.0"  # the world and its metric points: where signals are generated and COPYed

# A tiny launcher between us and each measured command: a child's ru_maxrss starts from the RSS of the
# process that exec'd it (Linux carries the old mm's high-water mark over exec), so the benchmark's own large
# buffers would leak into the figure. The launcher imports nothing heavy, so its RSS is far below any step's.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": time.perf_counter() - start, "maxrss_kib": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, fh)
"""


class StepFailed(Exception):
    pass


@dataclass
class Step:
    key: str  # stable id: copy, copy_pk, seed, load:<table>, entities, json_base, export,
    # points:plain[:seed], points:incidents[:seed], quickstart:<n>
    name: str
    rows: int | None
    seconds: float
    baseline: str | None = None  # key of the step (same profile) this one is a ratio to
    rss_mib: float | None = None  # peak RSS of the child process
    wall: float | None = None  # wall time of the child process, start-up included
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def rate(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds > 0 and not self.failed else None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "seconds": self.seconds, "rowsPerSecond": self.rate,
                "baseline": self.baseline, "peakRssMiB": self.rss_mib, "wallSeconds": self.wall,
                "error": self.error}


@dataclass
class ProfileRun:
    profile: Profile
    steps: dict[str, Step] = field(default_factory=dict)
    seed_phases: dict[str, float] = field(default_factory=dict)
    export_phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    statements: list[tuple[str, tuple[int, float]]] = field(default_factory=list)
    dataset_version: str | None = None
    export_bytes: int = 0
    realism: dict[str, dict[str, Any]] = field(default_factory=dict)  # step 5, per variant: its figures, phases
    scenario: dict[str, int] = field(default_factory=dict)  # what step 5's scenario declares
    url: str | None = None  # the seeded database, while it exists (for the exporters' measurement)

    def ratio(self, key: str) -> float | None:
        step = self.steps.get(key)
        base = self.steps.get(step.baseline) if step and step.baseline else None
        if step is None or base is None or step.rate is None or base.rate is None:
            return None
        return step.rate / base.rate


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command through the launcher; return (wall seconds, peak RSS in MiB of the command and the
    children it waited for). Raises StepFailed with the last line of its stderr when it fails."""
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-") as tmp, tempfile.TemporaryFile() as err:
        measured = Path(tmp) / "rusage.json"
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(measured), *cmd], env=env,
                              stdout=subprocess.DEVNULL, stderr=err, check=False)
        result = json.loads(measured.read_text()) if measured.exists() else {"returncode": proc.returncode}
        if proc.returncode != 0 or result["returncode"] != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise StepFailed(lines[-1] if lines else f"exit status {result['returncode']}")
    return result["seconds"], result["maxrss_kib"] / 1024.0  # Linux reports KiB


def child_env(url: str | None = None) -> dict[str, str]:
    """The children import this very apmseed, installed or not."""
    source = str(Path(apmseed.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    if url:
        env[URL_ENV] = url
    return env


def run_json_child(kind: str, url: str, *args: str) -> tuple[dict[str, Any], float, float]:
    """(the child's JSON result, wall seconds, peak RSS MiB)."""
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "apmseed.bench.child", kind, "--result", str(result_file), *args]
        wall, rss = run_child(cmd, child_env(url))
        return json.loads(result_file.read_text()), wall, rss


def run_profile(srv: Server, profile: Profile, log: Log, repeat: int,
                keep: Callable[[ProfileRun], None] | None = None) -> ProfileRun:
    """`repeat` rounds of every step; each step keeps its fastest round (the steps and phases of one child
    process come with it). `keep` is called with the last round while its seeded database still exists."""
    log(f"[{profile.name}] building {profile.points:,} baseline rows with encode_points (untimed)")
    payloads = baselines.point_payloads(profile)
    best = ProfileRun(profile)
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-scenario-") as tmp:
        written = bench_scenario.write(profile, Path(tmp), END_MS)  # a bad scenario fails before any step
        best.scenario = written.describe()
        for round_no in range(1, repeat + 1):
            if repeat > 1:
                log(f"[{profile.name}] round {round_no} of {repeat}")
            run = one_round(srv, profile, payloads, log, keep if round_no == repeat else None, written.path,
                            round_no)
            for group in dict.fromkeys(_group(k) for k in run.steps):  # the step that leads each group decides
                if not _better(best.steps.get(group), run.steps.get(group)):
                    continue
                best.steps.update({k: s for k, s in run.steps.items() if _group(k) == group})
                if group == "seed":
                    best.seed_phases, best.counts, best.statements = run.seed_phases, run.counts, run.statements
                    best.tables, best.dataset_version = run.tables, run.dataset_version
                elif group in REALISM:
                    best.realism[group] = run.realism.get(group, {})
            if _better(best.steps.get("export"), run.steps.get("export")) or not best.export_phases:
                best.export_phases, best.export_bytes = run.export_phases, run.export_bytes
    order = list(run.steps)  # the order the steps ran in
    best.steps = dict(sorted(best.steps.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    return best


def _group(key: str) -> str:
    """Steps measured by one child process go together: the seed's per-table steps, a realism seed's two rates."""
    if key == "seed" or key == "entities" or key.startswith("load:"):
        return "seed"
    return next((g for g in REALISM if key.startswith(g)), key)


def _better(kept: Step | None, step: Step | None) -> bool:
    if step is None:
        return False
    return kept is None or (kept.failed and not step.failed) or (not step.failed and step.seconds < kept.seconds)


def one_round(srv: Server, profile: Profile, payloads: list[bytes], log: Log,
              keep: Callable[[ProfileRun], None] | None = None, scenario: Path | None = None,
              round_no: int = 1) -> ProfileRun:
    run = ProfileRun(profile)
    name = profile.name
    log(f"[{name}] 1. raw binary COPY of {profile.points:,} metric-point rows, no constraints")
    rows, seconds, _ = baselines.raw_copy(srv, f"{name}_copy", payloads, add_pk=False)
    run.steps["copy"] = Step("copy", "1. raw binary COPY of the points, no constraints (baseline)", rows, seconds,
                             "copy")

    log(f"[{name}] 2. raw binary COPY + ADD PRIMARY KEY")
    rows, seconds, pk_seconds = baselines.raw_copy(srv, f"{name}_copy_pk", payloads, add_pk=True)
    run.steps["copy_pk"] = Step("copy_pk", "2. raw binary COPY (NOT NULL keys) + ADD PRIMARY KEY afterwards",
                                rows, seconds, "copy")
    run.seed_phases["(baseline 2: its ADD PRIMARY KEY alone)"] = pk_seconds

    log(f"[{name}] 2b. raw binary COPY + ADD PRIMARY KEY + ADD FOREIGN KEY")
    rows, seconds, keys_seconds = baselines.raw_copy(srv, f"{name}_copy_keys", payloads, add_pk=True, add_fk=True)
    run.steps["copy_keys"] = Step("copy_keys", "2b. raw binary COPY (NOT NULL keys) + ADD PRIMARY KEY + ADD FOREIGN "
                                  "KEY afterwards: PostgreSQL's own load with apmseed's constraints", rows, seconds,
                                  "copy")
    run.seed_phases["(baseline 2b: its ADD PRIMARY KEY + ADD FOREIGN KEY alone)"] = keys_seconds
    seed_and_export(srv, run, log, keep)
    if scenario is not None:
        realism_pair(srv, run, log, scenario, reverse=round_no % 2 == 0)
    return run


def seed_and_export(srv: Server, run: ProfileRun, log: Log, keep: Callable[[ProfileRun], None] | None) -> None:
    """Steps 3 and 4 in one fresh database: seed the latest dataset version, then export it."""
    profile, name = run.profile, run.profile.name
    version = versioning.latest_version()
    with srv.database(f"{name}_seed") as url:
        log(f"[{name}] 3. seed of dataset {version} (child process)")
        srv.checkpoint()
        try:
            seeded, wall, rss = run_json_child("seed", url, "--profile", name, *_scale(profile))
        except StepFailed as exc:  # report it: the baselines still stand, the rest needs the seeded data
            log(f"[{name}]    seed failed: {exc}")
            run.steps["seed"] = Step("seed", f"3. seed of dataset {version}", None, 0.0, error=str(exc)[:300])
            return
        log(f"[{name}]    {wall:.2f} s; peak RSS {rss:.0f} MiB (VmHWM {seeded['vm_hwm_mib'] or 0:.0f})")
        _record_seed(run, seeded, wall, rss)

        log(f"[{name}] 4. row_to_json COPY TO STDOUT baseline")
        tables = [t for t in run.counts if t != "metric_point"] + ["metric_point"]
        srv.checkpoint()
        seconds = baselines.row_to_json(url, tables)
        run.steps["json_base"] = Step("json_base", "4. COPY (SELECT row_to_json(t) ...) TO STDOUT, all tables "
                                      "(baseline)", sum(run.counts.values()), seconds, "json_base")

        log(f"[{name}] 4. export jsonl (child process)")
        try:
            with tempfile.TemporaryDirectory(prefix="apmseed-bench-export-") as out:
                exported, wall, rss = run_json_child("export", url, "--export-dir", out)
        except StepFailed as exc:  # report it and go on: the other figures still stand
            log(f"[{name}]    export failed: {exc}")
            run.steps["export"] = Step("export", "4. export jsonl", None, 0.0, "json_base", error=str(exc)[:300])
        else:
            log(f"[{name}]    {wall:.2f} s; peak RSS {rss:.0f} MiB (VmHWM {exported['vm_hwm_mib'] or 0:.0f})")
            run.export_phases, run.export_bytes = exported["phases"], exported["bytes"]
            points = run.counts.get("metric_point", 0)
            run.steps["export"] = Step("export", "4. export jsonl (records + points)", exported["records"] + points,
                                       exported["seconds"], "json_base", rss, wall)
        if keep is not None:
            run.url = url
            keep(run)
            run.url = None


def _scale(profile: Profile) -> list[str]:
    return ["--scale", repr(profile.scale)] if profile.scale != 1.0 else []


def realism_pair(srv: Server, run: ProfileRun, log: Log, scenario: Path, reverse: bool = False) -> None:
    """Step 5: the world and its metric points (dataset 1.0.0, where signals are generated and COPYed) without a
    scenario, then with the incident-heavy one of the same sizes, each in a child process and a fresh database.
    Two rates each: points / the point phase (COPY with generation overlapped + the key rebuild) and points /
    the whole seed; the second variant's baseline is the first. `reverse` (every other round of --repeat) runs
    the scenario first, so neither variant always follows the big seed and export."""
    profile, name = run.profile, run.profile.name
    base = REALISM_VERSION
    variants = (("points:plain", "no scenario", ["--profile", name, *_scale(profile)]),
                ("points:incidents", f"incidents + cascades ({scenario.stem})", ["--scenario", str(scenario)]))
    measured: dict[str, list[Step]] = {}
    for key, what, args in variants[::-1] if reverse else variants:
        label = f"5. seed of dataset {base}, {what}"
        with srv.database(f"{name}_{key.split(':')[1]}") as url:
            log(f"[{name}] {label} (child process)")
            srv.checkpoint()
            try:
                seeded, wall, rss = run_json_child("seed", url, "--dataset-version", base, *args)
            except StepFailed as exc:
                log(f"[{name}]    failed: {exc}")
                measured[key] = [Step(key, label, None, 0.0, key, error=str(exc)[:300])]
                continue
        points = seeded["counts"].get("metric_point", 0)
        info = seeded["tables"].get("metric_point", {})
        phase = info.get("load_seconds") or 0.0
        baseline = variants[0][0]
        error = None if phase else "not measured (no COPY of metric_point seen)"
        per_phase = Step(key, f"{label}: metric points / point phase (COPY + generation + keys)",
                         points, phase, baseline, error=error)
        whole = Step(f"{key}:seed", f"{label}: metric points / whole seed", points, seeded["seconds"],
                     f"{baseline}:seed", rss, wall)
        measured[key] = [per_phase, whole]
        run.realism[key] = {"points": points, "pointSeconds": phase, "seedSeconds": seeded["seconds"],
                            "wallSeconds": wall, "peakRssMiB": rss, "rows": sum(seeded["counts"].values()),
                            "phases": seeded["phases"]}
        log(f"[{name}]    {wall:.2f} s; point phase {phase:.2f} s ({points / phase if phase else 0:,.0f} points/s); "
            f"peak RSS {rss:.0f} MiB")
    for index in (0, 1):  # the point-phase pair first, then the whole-seed pair
        run.steps.update({s.key: s for key, _, _ in variants for s in measured[key][index:index + 1]})


def _record_seed(run: ProfileRun, seeded: dict[str, Any], wall: float, rss: float) -> None:
    run.counts, run.tables, run.dataset_version = seeded["counts"], seeded["tables"], seeded["dataset_version"]
    run.seed_phases.update(seeded["phases"])
    run.statements = [(text, (int(calls), seconds)) for text, (calls, seconds) in seeded["statements"]]
    version = seeded["dataset_version"]
    run.steps["seed"] = Step("seed", f"3. seed of dataset {version}: all rows", sum(run.counts.values()),
                             seeded["seconds"], None, rss, wall)
    for table in LOADED_TABLES:
        if table not in run.tables:
            continue
        info = run.tables[table]
        how = "COPY + keys dropped and rebuilt" if info["keys_deferred"] else "COPY, keys checked per row"
        label = f"3. seed: {table} load ({how})"
        seconds = info["load_seconds"]
        run.steps[f"load:{table}"] = Step(f"load:{table}", label, info["rows"], seconds or 0.0, "copy",
                                          error=None if seconds else "not measured (no COPY of it seen)")
    points = run.tables.get(POINTS)
    if points and points["copy_seconds"]:
        run.steps["copy:metric_point"] = Step(
            "copy:metric_point", "3. seed: metric_point COPY alone (generation overlapped; keys rebuilt after it, "
            "counted in the load above)", points["rows"], points["copy_seconds"], "copy")
    run.steps["entities"] = Step("entities", "3. seed: entity rows through the factories (world + layers + their "
                                 "COPY)", seeded["entity_rows"], seeded["entity_seconds"])


def run_quickstart(log: Log, repeat: int) -> list[Step]:
    """`apmseed quickstart` with a fresh --data-dir (initdb + start + seed small + export), then the same again;
    the fastest of `repeat` rounds."""
    cmd = [sys.executable, "-m", "apmseed"]
    env = {k: v for k, v in child_env().items() if k not in ("APMSEED_DATA_DIR", "APMSEED_DATABASE_URL")}
    labels = ("fresh --data-dir: initdb + start + seed small + export", "same --data-dir again")
    best: dict[str, Step] = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="apmseed-bench-qs-") as tmp:
            data_dir, out = Path(tmp) / "data", Path(tmp) / "out"
            try:
                for n, label in enumerate(labels, 1):
                    log(f"[quickstart] 6. {label}")
                    try:
                        seconds, rss = run_child(
                            [*cmd, "quickstart", "--data-dir", str(data_dir), "--out", str(out), "-q"], env)
                    except StepFailed as exc:
                        log(f"[quickstart]    failed: {exc}")
                        return [Step("quickstart:1", "6. quickstart", None, 0.0, error=str(exc)[:300])]
                    log(f"[quickstart]    {seconds:.2f} s")
                    manifest = json.loads((out / "manifest.json").read_text())
                    records = sum(meta["records"] for meta in manifest["files"].values())
                    step = Step(f"quickstart:{n}", f"6. quickstart, {label}", records, seconds, None, rss, seconds)
                    if _better(best.get(label), step):
                        best[label] = step
            finally:
                stop_fallback(data_dir)
    return [best[label] for label in labels]
