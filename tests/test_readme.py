"""Every documented behaviour has a test: the README's SQL runs, its diagram equals the models, its two set-up
commands are what the Makefile and CI run."""

import re
from pathlib import Path

import sqlalchemy as sa

from apmseed.erd import mermaid

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_er_diagram_matches_models() -> None:
    block = README.split("<!-- erd:start -->", 1)[1].split("<!-- erd:end -->", 1)[0]
    assert block.strip() == f"```mermaid\n{mermaid()}```"


def test_sql_examples_run_on_a_seeded_database(seeded: sa.Engine) -> None:
    queries = re.findall(r"```sql\n(.*?)```", README, flags=re.S)
    assert len(queries) >= 5
    with seeded.connect() as conn:
        for query in queries:
            rows = conn.execute(sa.text(query)).all()
            assert rows, f"README query returned nothing:\n{query}"


def test_two_commands_are_wired() -> None:
    assert "make quickstart" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^quickstart:\n\t.*apmseed quickstart", makefile, flags=re.M)
    assert re.search(r"^test:\n\tbash scripts/test.sh", makefile, flags=re.M)
