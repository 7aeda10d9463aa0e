"""Observability: events, traces, token monitor, stats."""
