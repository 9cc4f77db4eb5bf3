"""Names fixed by the product contract (SPEC §3), for tests of code and assets."""

from __future__ import annotations

METRIC_NAMES = (
    "jobmon_job_status",
    "jobmon_jobs",
    "jobmon_job_info",
    "jobmon_job_runs_total",
    "jobmon_job_transitions_total",
    "jobmon_job_records_total",
    "jobmon_job_rejected_records_total",
    "jobmon_job_reject_limit",
    "jobmon_job_last_run_rejected_records",
    "jobmon_job_run_duration_seconds",
    "jobmon_job_last_start_timestamp_seconds",
    "jobmon_job_last_success_timestamp_seconds",
    "jobmon_job_last_failure_timestamp_seconds",
    "jobmon_job_heartbeat_timestamp_seconds",
    "jobmon_job_next_run_timestamp_seconds",
    "jobmon_job_max_duration_seconds",
    "jobmon_journal_messages_total",
    "jobmon_database_up",
    "jobmon_scrape_duration_seconds",
    "jobmon_scrape_errors_total",
    "jobmon_last_successful_read_timestamp_seconds",
    "jobmon_build_info",
)
