"""`apmseed scenarios`: the built-in scenarios, checking scenario files line by line, and their JSON Schema."""

from __future__ import annotations

import importlib.resources

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
