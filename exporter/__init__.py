"""jobmon exporter: serves job status and counters read from the jobmon database."""
