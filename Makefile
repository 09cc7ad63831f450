.PHONY: quickstart test bench lint erd

# Install into .venv and run the main job on the embedded PostgreSQL.
quickstart:
	python3 -m venv .venv && .venv/bin/python -m pip install -q . && .venv/bin/apmseed quickstart

# Install the test dependencies, start the services and run the whole suite.
test:
	bash scripts/test.sh

# Speed and memory, as ratios to raw COPY measured in the same run (writes BENCHMARKS.md); XL=1 adds xl.
bench:
	.venv/bin/apmseed bench --profiles medium,large $(if $(XL),--xl) --out BENCHMARKS.md

lint:
	.venv/bin/ruff check src tests benchmarks

# Regenerate the ER diagram embedded in README.md.
erd:
	.venv/bin/apmseed db erd
