"""SmallCode as an ACP (Agent Client Protocol) agent: `smallcode acp`, JSON-RPC over stdio.

Editors with an agent panel (Zed, JetBrains IDEs, Neovim's CodeCompanion, Emacs's agent-shell) start it and
talk to the same agent core as the command line and the language server. Imports agent_core; agent_core's
library never imports it (the `smallcode acp` command loads it when run).
"""
