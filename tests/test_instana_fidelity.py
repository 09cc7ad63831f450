"""Every exported record is accepted by the official `instana-client` pydantic models (the reference for
field names, types and enums), and nothing the model knows is lost or coerced on the way."""

import json
from pathlib import Path
from typing import Any

import instana_client.models as models
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import run_cli

ITEM_MODELS = {"APPLICATION": models.ApplicationItem, "SERVICE": models.ServiceItem,
               "ENDPOINT": models.EndpointItem, "INFRASTRUCTURE": models.MetricItem}
FILE_MODELS: dict[str, Any] = {
    "infrastructure_entities.jsonl": lambda r: models.SnapshotItem,
    "applications.jsonl": lambda r: models.Application,
    "services.jsonl": lambda r: models.Service,
    "endpoints.jsonl": lambda r: models.Endpoint,
    "issues.jsonl": lambda r: models.EventResult,
    "metrics_timeseries.jsonl": lambda r: ITEM_MODELS[r["entityType"]],
    "entity_types.jsonl": lambda r: models.PluginResult,
    "metrics_catalog.jsonl": lambda r: (models.MetricDescription if r["catalog"] == "APPLICATION"
                                        else models.MetricInstance),
    "infra_topology.jsonl": lambda r: models.Topology,
    "app_topology.jsonl": lambda r: models.ServiceMap,
}


def _known_part(record: dict[str, Any], model: Any) -> dict[str, Any]:
    aliases = {f.alias or name for name, f in model.model_fields.items()}
    return {k: v for k, v in record.items() if k in aliases}


@pytest.fixture
def export_dir(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    url = seeded.url.render_as_string(hide_password=False)
    assert run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q").exit_code == 0
    return out


@pytest.mark.parametrize("file_name", FILE_MODELS)
def test_every_record_is_accepted_by_the_official_model(export_dir: Path, file_name: str) -> None:
    lines = (export_dir / file_name).read_text().splitlines()
    assert lines, f"{file_name} is empty"
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        model = FILE_MODELS[file_name](record)
        parsed = model.from_dict(record)  # raises ValidationError (or KeyError for a missing discriminator)
        assert parsed is not None, f"{file_name}:{number}"
        round_trip = parsed.to_dict()
        expected = _known_part(record, type(parsed))
        # to_dict drops None values; every key we send must survive unchanged (no silent coercion)
        assert {k: round_trip.get(k) for k in expected} == expected, f"{file_name}:{number}"


def test_issue_subtypes_follow_the_entity_type(export_dir: Path) -> None:
    expected = {"APPLICATION": "ApplicationEventResult", "SERVICE": "ServiceEventResult",
                "ENDPOINT": "EndpointEventResult", "INFRASTRUCTURE": "InfraEventResult"}
    seen = set()
    for line in (export_dir / "issues.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert type(models.EventResult.from_dict(record)).__name__ == expected[record["entityType"]]
        seen.add(record["entityType"])
    assert len(seen) >= 2


def test_metric_keys_follow_instana_format(export_dir: Path) -> None:
    for line in (export_dir / "metrics_timeseries.jsonl").read_text().splitlines():
        record = json.loads(line)
        (key,) = record["metrics"]
        if record["entityType"] == "INFRASTRUCTURE":
            assert key == record["metricId"]
        else:
            assert key == f"{record['metricId']}.{record['aggregation'].lower()}.{record['granularity']}"
        assert all(isinstance(ts, int) for ts, _ in record["metrics"][key])
