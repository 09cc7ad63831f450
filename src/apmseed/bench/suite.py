"""One benchmark run: every profile's steps on one server, then quickstart and (optionally) every exporter."""

from __future__ import annotations

from dataclasses import dataclass, field

from apmseed import profiles
from apmseed.bench import exporters, machine
from apmseed.bench.exporters import ExporterRun
from apmseed.bench.server import server
from apmseed.bench.steps import Log, ProfileRun, Step, run_profile, run_quickstart


@dataclass
class BenchOptions:
    profiles: list[str]
    database_url: str | None = None
    repeat: int = 1
    quickstart: bool = True
    exporters: bool = False
    mongo_url: str | None = None
    scale: float | None = None  # applied to every profile (for a quick look at a size in between)


@dataclass
class Suite:
    options: BenchOptions
    machine: dict[str, str]
    loads: tuple[str, str]  # load average at start and end: other work on the machine shows here
    runs: list[ProfileRun] = field(default_factory=list)
    quickstart: list[Step] = field(default_factory=list)
    exporters: ExporterRun | None = None


def run(options: BenchOptions, log: Log) -> Suite:
    chosen = [profiles.resolve(name, {}, options.scale) for name in options.profiles]  # bad input fails first
    with server(options.database_url) as srv:
        suite = Suite(options, machine.describe(srv), (machine.load_average(), ""))

        def measure_exporters(run: ProfileRun) -> None:
            base = run.steps.get("json_base")
            if suite.exporters is None and run.url and base is not None and run.dataset_version:
                suite.exporters = exporters.measure(run.url, run.profile.name, run.dataset_version,
                                                    (base.rows or 0, base.seconds), options.mongo_url, log)

        for profile in chosen:
            keep = measure_exporters if options.exporters else None
            suite.runs.append(run_profile(srv, profile, log, options.repeat, keep))
        if options.quickstart:
            suite.quickstart = run_quickstart(log, options.repeat)
        suite.loads = (suite.loads[0], machine.load_average())
    return suite
