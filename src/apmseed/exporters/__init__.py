"""Exporters: one snapshot reader maps rows to the Instana shape once; each target is a thin writer."""
