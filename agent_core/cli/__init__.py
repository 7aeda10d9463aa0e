"""The `smallcode` command."""
