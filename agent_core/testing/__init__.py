"""Deterministic stand-ins for tests: a scripted OpenAI-compatible model server (also used by the regression
tests `smallcode trace test` writes)."""
