"""`apmseed validate`: a clean export passes; each kind of damage to a copy of it is reported with its file and
line (and, where the damage is isolated, as the only violation)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from apmseed.validation import Violation, load_schema, scan_points, schema_validator, validate_export
from tests.conftest import jsonl_records as records
from tests.conftest import run_cli

DATASET_SCHEMAS = ("infrastructure_entities", "applications", "services", "endpoints", "metrics_timeseries",
                   "issues", "manifest")
Record = dict[str, Any]
CORE = ("infrastructure_entities", "applications", "services", "endpoints", "metrics_timeseries", "issues")


# -- helpers -----------------------------------------------------------------------------------------------


def export(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> Path:
    out = tmp_path / "export"
    url = seeded.url.render_as_string(hide_password=False)
    # the 1.0.0 datasets only: later datasets refer to these records and would report the same damage again
    result = run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q", "--datasets", ",".join(CORE))
    assert result.exit_code == 0, result.output
    return out


def replace_line(directory: Path, name: str, number: int, new: Record | bytes, fix_manifest: bool = True) -> None:
    """Replace line `number` (1-based) of a data file; with `fix_manifest`, update the manifest's size, count and
    hash so that the replaced line is the only thing wrong."""
    path = directory / name
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = new if isinstance(new, bytes) else orjson.dumps(new, option=orjson.OPT_SORT_KEYS) + b"\n"
    path.write_bytes(b"".join(lines))
    if fix_manifest:
        manifest = json.loads((directory / "manifest.json").read_text())
        data = path.read_bytes()
        manifest["files"][name].update(records=len(lines), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def series_entity(record: Record) -> tuple[str, str]:
    kind = record["entityType"]
    return kind, record["snapshotId"] if kind == "INFRASTRUCTURE" else record[kind.lower()]["id"]


def find_series(directory: Path, lower: tuple[str, str], upper: tuple[str, str]) -> tuple[int, Record, Record]:
    """(line of `lower`, lower record, upper record) for the first entity that has both series."""
    series = records(directory, "metrics_timeseries.jsonl")
    by_key = {(series_entity(r), r["metricId"], r["aggregation"]): (n, r) for n, r in enumerate(series, 1)}
    for (entity, metric, aggregation), (number, record) in by_key.items():
        if (metric, aggregation) == lower and (entity, *upper) in by_key:
            return number, record, by_key[entity, *upper][1]
    raise AssertionError(f"no entity with both {lower} and {upper} series")


def points(record: Record) -> list[list[Any]]:
    (values,) = record["metrics"].values()
    return values


# -- damage, one kind per case: each returns the violation that must be reported ----------------------------


def unknown_service_id(d: Path) -> tuple[str, str]:
    """An endpoint nobody else references (no series, no issue), moved to a service that does not exist."""
    referenced = {r["endpoint"]["id"] for r in records(d, "metrics_timeseries.jsonl") if "endpoint" in r}
    referenced |= {r.get("endpointId") for r in records(d, "issues.jsonl")}
    number, endpoint = next((n, r) for n, r in enumerate(records(d, "endpoints.jsonl"), 1) if r["id"] not in referenced)
    replace_line(d, "endpoints.jsonl", number, {**endpoint, "serviceId": "0" * 40})
    return f"endpoints.jsonl:{number}: ", f"serviceId '{'0' * 40}' not found in services.jsonl"


def point_outside_timeframe(d: Path) -> tuple[str, str]:
    """The last point moved to `timeframe.to`: still increasing and on the grid, but outside [from, to)."""
    number, record = next((n, r) for n, r in enumerate(records(d, "metrics_timeseries.jsonl"), 1) if points(r))
    points(record)[-1][0] = record["timeframe"]["to"]
    replace_line(d, "metrics_timeseries.jsonl", number, record)
    return f"metrics_timeseries.jsonl:{number}: ", "1 point(s) outside the series timeframe"


def changed_bytes(d: Path) -> tuple[str, str]:
    """One character of an issue's text changed, same length, manifest left alone: only the hash can tell."""
    path = d / "issues.jsonl"
    data = path.read_bytes()
    at = data.index(b'"detail":"') + len(b'"detail":"')
    path.write_bytes(data[:at] + (b"X" if data[at:at + 1] != b"X" else b"Y") + data[at + 1:])
    return "issues.jsonl:0: ", "sha256"


def malformed_json(d: Path) -> tuple[str, str]:
    replace_line(d, "issues.jsonl", 2, b'{"eventId": "truncated\n')
    return "issues.jsonl:2: ", "malformed JSON"


def severity_seven(d: Path) -> tuple[str, str]:
    replace_line(d, "issues.jsonl", 3, {**records(d, "issues.jsonl")[2], "severity": 7})
    return "issues.jsonl:3: ", "schema: $.severity: 7 is not one of [5, 10]"


def more_errors_than_calls(d: Path) -> tuple[str, str]:
    number, errors, calls = find_series(d, ("erroneousCalls", "SUM"), ("calls", "SUM"))
    ts, total = points(calls)[0]
    point = next(p for p in points(errors) if p[0] == ts)
    point[1] = total + 1
    replace_line(d, "metrics_timeseries.jsonl", number, errors)
    return f"metrics_timeseries.jsonl:{number}: ", "erroneousCalls SUM exceeds calls SUM (line"


def p50_above_p90(d: Path) -> tuple[str, str]:
    number, p50, p90 = find_series(d, ("latency", "P50"), ("latency", "P90"))
    ts, value = points(p90)[-1]
    next(p for p in points(p50) if p[0] == ts)[1] = value + 1.5
    replace_line(d, "metrics_timeseries.jsonl", number, p50)
    return f"metrics_timeseries.jsonl:{number}: ", "latency P50 exceeds latency P90"


def endpoint_issue_wrong_service(d: Path) -> tuple[str, str]:
    """An endpoint issue naming another (existing) service than the endpoint's own."""
    issues = records(d, "issues.jsonl")
    number, issue = next((n, r) for n, r in enumerate(issues, 1) if r["entityType"] == "ENDPOINT")
    other = next(s for s in records(d, "services.jsonl")
                 if s["id"] != issue["endpointServiceId"] and issue["applicationId"] in s["applicationIds"])
    replace_line(d, "issues.jsonl", number, {**issue, "endpointServiceId": other["id"]})
    return f"issues.jsonl:{number}: ", "is not the endpoint's serviceId"


def listed_file_missing(d: Path) -> tuple[str, str]:
    (d / "endpoints.jsonl").unlink()
    return "endpoints.jsonl:0: ", "listed in manifest.json but missing"


def unlisted_file(d: Path) -> tuple[str, str]:
    (d / "stray.jsonl").write_text("{}\n")
    return "stray.jsonl:0: ", "not listed in manifest.json"


def record_count_mismatch(d: Path) -> tuple[str, str]:
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["files"]["applications.jsonl"]["records"] += 1
    (d / "manifest.json").write_text(json.dumps(manifest))
    return "applications.jsonl:0: ", "records"


# (damage, whether it must be the only violation)
CASES: list[tuple[Callable[[Path], tuple[str, str]], bool]] = [
    (unknown_service_id, True),
    (point_outside_timeframe, False),  # outside the series' and the export's timeframe: two violations, one line
    (changed_bytes, True),
    (malformed_json, True),
    (severity_seven, True),
    (more_errors_than_calls, True),
    (p50_above_p90, True),
    (endpoint_issue_wrong_service, False),  # also not among that service's applications, possibly
    (listed_file_missing, False),  # its dependants' references can no longer be checked: that alone
    (unlisted_file, True),
    (record_count_mismatch, True),
]


# -- tests ---------------------------------------------------------------------------------------------------


def test_clean_export_is_valid(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    out = export(runner, seeded, tmp_path)
    assert validate_export(out) == []
    result = run_cli(runner, "validate", out)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{out}: valid"
    as_json = run_cli(runner, "validate", out, "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.output) == {"ok": True, "violations": []}


@pytest.mark.parametrize("damage, only", CASES, ids=[c[0].__name__ for c in CASES])
def test_damaged_copy_is_reported(runner: CliRunner, seeded: sa.Engine, tmp_path: Path,
                                  damage: Callable[[Path], tuple[str, str]], only: bool) -> None:
    pristine = export(runner, seeded, tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(pristine, broken)
    prefix, needle = damage(broken)

    result = run_cli(runner, "validate", broken)
    assert result.exit_code != 0
    reported = [line for line in result.output.splitlines() if line.startswith(prefix)]
    assert any(needle in line for line in reported), result.output
    assert "violation(s) in" in result.output

    violations = [str(v) for v in validate_export(broken)]
    if only:
        assert len(violations) == 1, violations
    else:
        assert all(v.startswith(prefix) for v in violations), violations
    assert validate_export(pristine) == []  # the damage was done to the copy only


def test_json_output_lists_violations(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    out = export(runner, seeded, tmp_path)
    prefix, _ = severity_seven(out)
    result = run_cli(runner, "validate", out, "--json")
    assert result.exit_code != 0
    payload = json.loads(result.output.splitlines()[0])
    assert payload["ok"] is False and len(payload["violations"]) == 1
    assert payload["violations"][0].startswith(prefix)


def test_missing_directory(runner: CliRunner, tmp_path: Path) -> None:
    result = run_cli(runner, "validate", tmp_path / "nowhere")
    assert result.exit_code != 0
    assert f"{tmp_path / 'nowhere'}:0: export directory does not exist" in result.output
    assert validate_export(tmp_path / "nowhere") == [
        Violation(str(tmp_path / "nowhere"), 0, "export directory does not exist")]


def test_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (violation,) = validate_export(tmp_path / "file")
    assert violation.line == 0 and "not a directory" in violation.problem


def test_missing_manifest(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "applications.jsonl").write_text("{}\n")
    result = run_cli(runner, "validate", tmp_path)
    assert result.exit_code != 0
    assert "manifest.json:0: missing" in result.output
    assert len(validate_export(tmp_path)) == 1


def test_malformed_manifest_still_checks_the_data(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    out = export(runner, seeded, tmp_path)
    (out / "manifest.json").write_text('{"tool": "apmseed",\n  "files": [\n')
    replace_line(out, "issues.jsonl", 1, b"oops\n", fix_manifest=False)
    violations = [str(v) for v in validate_export(out)]
    assert violations[0].startswith("manifest.json:3: malformed JSON"), violations
    assert any(v.startswith("issues.jsonl:1: malformed JSON") for v in violations), violations


def test_manifest_schema_violation(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"tool": "other", "files": {}}))
    violations = [str(v) for v in validate_export(tmp_path)]
    assert violations and violations[0].startswith("manifest.json:0: schema: "), violations


def test_violation_format() -> None:
    assert str(Violation("issues.jsonl", 3, "bad")) == "issues.jsonl:3: bad"


# -- the schemas themselves -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASET_SCHEMAS)
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def _resolved(schema: Record, node: Any) -> Any:
    """`node` with every local $ref replaced by its target, so definitions from two files can be compared."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            target: Any = schema
            for key in node["$ref"][2:].split("/"):
                target = target[key]
            return _resolved(schema, target)
        return {k: _resolved(schema, v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_resolved(schema, v) for v in node]
    return node


@pytest.mark.parametrize("kind, dataset", [("application", "applications"), ("service", "services"),
                                           ("endpoint", "endpoints")])
def test_embedded_entities_match_their_own_schemas(kind: str, dataset: str) -> None:
    """The entity a series embeds is defined twice (each schema file stands alone); the two must not drift."""
    metrics = load_schema("metrics_timeseries")
    entity = load_schema(dataset)
    embedded = _resolved(metrics, metrics["$defs"][kind])
    standalone = _resolved(entity, {k: v for k, v in entity.items() if k not in ("$schema", "title", "$defs")})
    if dataset == "services":  # Instana's Service object has no applicationIds
        del standalone["properties"]["applicationIds"]
        standalone["required"].remove("applicationIds")
    assert embedded == standalone


GOOD_TS = 1_763_647_200_000
POINT_CASES = [
    [], [[GOOD_TS, 0]], [[GOOD_TS, 1.5], [GOOD_TS + 60_000, 2]],
    "points", [[GOOD_TS]], [[GOOD_TS, 1, 2]], [[GOOD_TS, -1]], [[GOOD_TS, "1"]], [[GOOD_TS, True]], [[GOOD_TS, None]],
    [[float(GOOD_TS), 1]], [[GOOD_TS // 1000, 1]], [[GOOD_TS * 1000, 1]], [["2025-11-20", 1]], [{"t": 1}], [7],
]


@pytest.mark.parametrize("value", POINT_CASES, ids=[json.dumps(c)[:40] for c in POINT_CASES])
def test_point_checks_mirror_the_schema(value: Any) -> None:
    """Points are checked in Python for speed; they must accept exactly what the schema's $defs/points does
    (with integers meaning integers, as the validator's type checker has it)."""
    validator = schema_validator("metrics_timeseries")
    points_only = type(validator)({"$defs": validator.schema["$defs"], "$ref": "#/$defs/points"})
    assert (scan_points(value, "$").schema is None) == points_only.is_valid(value), scan_points(value, "$").schema
