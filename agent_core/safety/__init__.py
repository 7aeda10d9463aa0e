"""Safety: workspace confinement, write guard, checkpoints and rollback, shell policy, redaction."""
