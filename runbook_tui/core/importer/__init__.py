"""Importers: other runbook formats -> the YAML runbook format."""
