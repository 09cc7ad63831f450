"""`apmseed scenarios plot` and the README's scenario section: the picture is a real PNG of the same world
`seed --scenario` seeds, bad input is one line, and what the README shows (the builder example, the ground
truth record, the command behind the committed picture) is what the code does."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apmseed.scenarios.plot import service_rows
from apmseed.scenarios.spec import resolve_scenario
from apmseed.scenarios.world import build_world
from tests.conftest import END_MS, END_TIME, run_cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README.split("## Scenarios: a story with known truth", 1)[-1].split("\n## ", 1)[0]
PICTURE = "docs/scenario-db-outage-cascade.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a valid PNG has first, right after the signature."""
    assert data[:8] == PNG_SIGNATURE, data[:8]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def plot(runner: CliRunner, *args: str | Path) -> Result:
    return run_cli(runner, "scenarios", "plot", *args)


def test_plot_writes_a_png_of_a_builtin(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "story.png"
    result = plot(runner, "db-outage-cascade", "--seed", "42", "--end-time", END_TIME, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and "db-outage-cascade, seed 42" in result.output
    width, height = png_size(out.read_bytes())
    assert width > 0 and height > 0
    assert [p.name for p in tmp_path.iterdir()] == ["story.png"]  # the temporary file was renamed
    again = tmp_path / "again.png"
    assert plot(runner, "db-outage-cascade", "--seed", "42", "--end-time", END_TIME, "--out", again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()  # no time or software chunk: same input, same bytes


def test_plot_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    cases = {
        "unknown scenario 'nosuch'": ["nosuch", "--out", tmp_path / "a.png"],
        "does not exist": ["steady", "--out", tmp_path / "missing" / "a.png"],
        "is a directory": ["steady", "--out", tmp_path],
        "no service 'chekout'": ["db-outage-cascade", "--services", "chekout", "--out", tmp_path / "b.png",
                                 "--end-time", END_TIME],
        "not an ISO 8601 time": ["steady", "--end-time", "noon", "--out", tmp_path / "c.png"],
    }
    for problem, args in cases.items():
        result = plot(runner, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert problem in result.output
    assert "did you mean 'checkout'?" in plot(runner, *cases["no service 'chekout'"]).output
    assert list(tmp_path.iterdir()) == []


def test_plot_without_matplotlib_says_what_to_install(runner: CliRunner, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` meets when it is missing
    result = plot(runner, "steady", "--out", tmp_path / "a.png")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output == "Error: drawing needs matplotlib, which is not installed (pip install 'apmseed[plot]')\n"


def test_rows_are_declared_services_in_call_order_story_first() -> None:
    spec = resolve_scenario("db-outage-cascade", end_ms=END_MS)
    world = build_world(spec.profile, 42, spec.end_ms, spec)
    # eight declared, six drawn: the five the cascade reaches, then cart (declared next); callers above callees
    assert [r.name for r in service_rows(world, spec)] == ["frontend", "checkout", "cart", "payments", "inventory",
                                                           "postgres-orders"]
    assert [r.name for r in service_rows(world, spec, ["postgres-orders", "redis-sessions"])] == \
        ["postgres-orders", "redis-sessions"]
    assert all(r.bundle.target["label"] == r.name and r.bundle.target["entity_type"] == "SERVICE"
               for r in service_rows(world, spec))


def test_plot_services_option(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "two.png"
    result = plot(runner, "db-outage-cascade", "--end-time", END_TIME, "--services", "postgres-orders, checkout",
                  "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("services postgres-orders, checkout")
    assert png_size(out.read_bytes())[1] < png_size((ROOT / PICTURE).read_bytes())[1]  # two rows, not six


# --- the README's scenario section -------------------------------------------------------------------------------


def test_readme_builder_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    block = README.split("<!-- scenario-builder:start -->", 1)[1].split("<!-- scenario-builder:end -->", 1)[0]
    code = re.findall(r"```python\n(.*?)```", block, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md (scenario builder)", "exec"), namespace)
    printed = capsys.readouterr().out.strip()
    assert f"# {printed}\n" in code  # the output the README shows under the print
    spec = namespace["spec"]
    assert resolve_scenario(str(tmp_path / "orders-db-blip.yaml")) == spec  # the YAML it writes loads back


def test_readme_ground_truth_record_is_what_the_scenario_seeds() -> None:
    record = re.search(r'^\{"affected":.*"scenario":"db-outage-cascade".*\}$', SECTION, flags=re.M)
    assert record, "no ground_truth.jsonl record in the README's scenario section"
    line = record.group(0)
    spec = resolve_scenario("db-outage-cascade", end_ms=END_MS)
    world = build_world(spec.profile, 42, spec.end_ms, spec)
    position, story = next((i, s) for i, s in enumerate(world.stories) if s.cause == "cascade")
    assert f'"id":"{story.ident(42, position)}"' in line
    assert f'"start":{story.start_ms}' in line and '"cause":"cascade"' in line and '"type":"outage"' in line
    shown = re.findall(r'"hop":(\d+),"label":"([^"]+)"', line)
    assert shown and all((int(hop), label) in {(e.hop, e.target["label"]) for e in story.effects}
                         for hop, label in shown)


def test_readme_plot_command_makes_the_committed_picture(runner: CliRunner, tmp_path: Path) -> None:
    assert f"]({PICTURE})" in SECTION
    command = re.search(r"^apmseed scenarios plot (.+) --out (\S+)$", SECTION, flags=re.M)
    assert command and command.group(2) == PICTURE
    out = tmp_path / "picture.png"
    result = plot(runner, *command.group(1).split(), "--out", out)
    assert result.exit_code == 0, result.output
    # same size; the bytes match too with the matplotlib that drew the committed file
    assert png_size(out.read_bytes()) == png_size((ROOT / PICTURE).read_bytes())
