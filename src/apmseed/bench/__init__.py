"""`apmseed bench`: raw PostgreSQL baselines next to `seed` and `export jsonl`, measured in one run on one server.

A measurement, never a test: nothing here asserts on time. Modules: `server` (the server and one fresh database
per step), `baselines` (raw COPY in and out), `probes` + `child` (the seed and export measured in child
processes), `steps` (running them, peak RSS through wait4), `report` (markdown, JSON, targets), `machine`,
`exporters` (every export target against the same baseline), `scenario` (the incident-heavy scenario seeded
against no scenario, issue #4's realism cost)."""

SEED = 42
END_MS = 1_763_650_800_000  # 2025-11-20T15:00:00Z, the tests' fixed end time
DEFAULT_PROFILES = ("medium", "large")
