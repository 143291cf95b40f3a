"""runbook-tui: walk on-call engineers through rollbacks."""

__version__ = "0.1.0"
