"""The cognition layer: declared prompts (a TOML spec each) compiled into typed callables with validation,
constrained decoding, repair-and-retry, a SQLite cache, traces and token budgets.

    from agent_core import cognition
    out = cognition.load("x.toml")(task="…")       # the validated output
"""

from agent_core.cognition.prompt import DeclaredPrompt, load
from agent_core.cognition.runtime import BudgetExceeded, Cognition, CognitionError, PromptFailed
from agent_core.cognition.spec import PromptSpec, SpecError, load_spec

__all__ = [
    "BudgetExceeded",
    "Cognition",
    "CognitionError",
    "DeclaredPrompt",
    "PromptFailed",
    "PromptSpec",
    "SpecError",
    "load",
    "load_spec",
]
