"""`python benchmarks/bench.py [OPTIONS]` is `apmseed bench [OPTIONS]` (see `apmseed bench --help` and
benchmarks/README.md), runnable from a checkout: it measures the code in this checkout's src/.

    python benchmarks/bench.py --profiles medium,large [--xl] [--database-url URL] [--out BENCHMARKS.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from apmseed.cli.main import main  # after the path: this checkout's apmseed

if __name__ == "__main__":
    sys.argv = ["apmseed", "bench", *sys.argv[1:]]
    main()
