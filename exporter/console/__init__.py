"""The web console: the job list and each job's General, Journal, Rejects and Runs tabs, with
control, and the same data as JSON under ``/api/v1/``. Served by the exporter."""
