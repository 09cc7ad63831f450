"""What the figures were measured on: they only mean something next to the machine and the server settings."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import psycopg
import sqlalchemy as sa

import apmseed
from apmseed.bench.server import Server

SERVER_SETTINGS = ("shared_buffers", "maintenance_work_mem", "wal_level", "fsync", "synchronous_commit",
                   "max_wal_size")


def describe(srv: Server) -> dict[str, str]:
    settings = ", ".join(f"{s}={srv.scalar(f'SHOW {s}')}" for s in SERVER_SETTINGS)
    return {
        "CPUs (nproc)": str(nproc()),
        "CPU model": cpu_model(),
        "RAM": ram(),
        "OS": platform.platform(),
        "PostgreSQL": str(srv.scalar("SELECT version()")),
        "server": srv.kind,
        "server settings": settings,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "libraries": f"numpy {np.__version__}, psycopg {psycopg.__version__}, SQLAlchemy {sa.__version__}",
        "apmseed": source_revision(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram() -> str:
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
    except (OSError, IndexError, ValueError):
        return "unknown"
    return f"{kib / 2**20:.1f} GiB"


def source_revision() -> str:
    """apmseed's version and, when it runs from a git checkout, the commit measured (and whether src/ had
    local changes): a figure without the code it measured cannot be compared."""
    root = Path(apmseed.__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists() or not (root / ".git").exists():
        return apmseed.__version__
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "src"], capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return apmseed.__version__
    return f"{apmseed.__version__}, commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
