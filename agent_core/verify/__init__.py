"""Verification: done means the project's own tests say so (see verifier.py)."""

from agent_core.verify.runner import TestRun
from agent_core.verify.testfiles import is_test_file, task_changes_tests
from agent_core.verify.verifier import Verdict, Verifier, asks_for_change

__all__ = ["TestRun", "Verdict", "Verifier", "asks_for_change", "is_test_file", "task_changes_tests"]
