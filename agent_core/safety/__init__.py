"""Safety: workspace confinement, write guard, snapshots, shell policy, redaction."""
