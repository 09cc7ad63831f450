"""Readers and dataset entries for dataset 1.4.0. (Being built: no datasets yet.)"""

from __future__ import annotations

from apmseed.exporters.datasets_base import Dataset

DATASETS: list[Dataset] = []
