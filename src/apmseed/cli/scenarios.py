"""`apmseed scenarios`: the built-in scenarios, checking scenario files line by line, their JSON Schema, and a
picture of one (`plot`)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import click
import orjson

from apmseed import timeutil
from apmseed.errors import ApmseedError
from apmseed.scenarios.spec import builtin_names, resolve_scenario, scenario_source
from apmseed.scenarios.yaml_lines import ScenarioError

END_TIME_HELP = "End of the window for offsets and checks, ISO 8601 (default: the file's end_time, else now)."


def _end_ms(end_time: str | None) -> int | None:
    return timeutil.parse_time(end_time, "--end-time") if end_time else None


@click.group("scenarios")
def scenarios() -> None:
    """Scenarios: the world to seed (sizes, window, seasonality, services) and what happens in it (incidents,
    cascades, releases, traffic surges), as YAML files.

    \b
    Built-ins:  apmseed scenarios list
    Read one:   apmseed scenarios show black-friday
    Check:      apmseed scenarios validate my-scenario.yaml
    Editors:    apmseed scenarios schema > scenario.schema.json
    Picture:    apmseed scenarios plot db-outage-cascade --out story.png
    """


@scenarios.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print name and description as JSON.")
def list_scenarios(as_json: bool) -> None:
    """List the built-in scenarios with a one-line description."""
    rows = [(name, resolve_scenario(name).description) for name in builtin_names()]
    if as_json:
        click.echo(orjson.dumps([{"name": n, "description": d} for n, d in rows]).decode())
        return
    width = max(len(n) for n, _ in rows)
    for name, description in rows:
        click.echo(f"{name:<{width}}  {description}")


@scenarios.command("show")
@click.argument("scenario", metavar="NAME|FILE")
@click.option("--json", "as_json", is_flag=True,
              help="Print the resolved spec: absolute times (epoch ms), defaults filled in, cascade hops.")
@click.option("--end-time", help=END_TIME_HELP)
def show(scenario: str, as_json: bool, end_time: str | None) -> None:
    """Print a scenario's YAML (after checking it), or with --json the spec it resolves to."""
    spec = resolve_scenario(scenario, end_ms=_end_ms(end_time))
    if as_json:
        click.echo(orjson.dumps(spec.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(scenario_source(scenario)[1], nl=False)


@scenarios.command("validate")
@click.argument("items", nargs=-1, required=True, metavar="NAME|FILE...")
@click.option("--end-time", help=END_TIME_HELP)
def validate(items: tuple[str, ...], end_time: str | None) -> None:
    """Check scenarios: `NAME: ok`, or one `FILE:LINE: problem (fix)` line per problem and exit 1."""
    end_ms = _end_ms(end_time)
    failed = 0
    for item in items:
        try:
            spec = resolve_scenario(item, end_ms=end_ms)
        except ScenarioError as err:
            failed += 1
            for issue in err.issues:
                click.echo(str(issue))
        except ApmseedError as err:
            failed += 1
            click.echo(f"{item}: {err}")
        else:
            click.echo(f"{item}: ok ({spec.name}: {len(spec.services)} services, {len(spec.incidents)} incidents, "
                       f"{len(spec.cascades)} cascades, {len(spec.releases)} releases)")
    if failed:
        raise click.ClickException(f"{failed} of {len(items)} scenario(s) have problems")


@scenarios.command("schema")
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of scenario files, e.g. for an editor's YAML support."""
    resource = importlib.resources.files("apmseed") / "jsonschemas" / "scenario.schema.json"
    click.echo(resource.read_text(encoding="utf-8"), nl=False)


@scenarios.command("plot")
@click.argument("scenario", metavar="NAME|FILE")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The PNG file to write.")
@click.option("--seed", "seed_value", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Random seed, as for `seed --scenario` (default: the scenario's, else 42).")
@click.option("--end-time", help="End of the window, ISO 8601, as for `seed --scenario` (default: the file's "
                                 "end_time, else now).")
@click.option("--services", metavar="A,B,...",
              help="Services to draw, top to bottom (default: the declared ones in topology order, at most 6).")
def plot(scenario: str, out: Path, seed_value: int | None, end_time: str | None, services: str | None) -> None:
    """Draw a scenario's services (calls, erroneous calls, latency P50) with its ground truth shaded, as a PNG.

    The world is built in memory exactly as `apmseed seed --scenario` seeds it (same seed and --end-time, same
    numbers), so no database is needed. Needs matplotlib: pip install 'apmseed[plot]'.
    """
    from apmseed.scenarios import plot as drawing  # matplotlib stays out of every other command's start-up

    drawing.require_matplotlib()
    drawing.check_out(out)
    spec = resolve_scenario(scenario, end_ms=_end_ms(end_time))
    seed_value = drawing.default_seed(spec) if seed_value is None else seed_value
    wanted = [s.strip() for s in services.split(",") if s.strip()] if services else None
    drawn = drawing.plot_scenario(spec, out, seed_value, wanted)
    click.echo(f"wrote {out}: {spec.name}, seed {seed_value}, window ending {timeutil.iso(spec.end_ms)}, "
               f"services {', '.join(drawn)}")
