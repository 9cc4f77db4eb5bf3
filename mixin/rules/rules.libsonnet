// prometheusRules: recording rules. The overview dashboard's "all jobs" panels read these
// instead of every job's series, so it stays fast at 10,000 jobs; JobmonJobSlowerThanUsual
// reads the per-job duration quantile. Every rule keeps job and instance, so the selector and
// the dashboards' job/instance variables still apply to what they record.
local promql = import '../lib/promql.libsonnet';

{
  prometheusRules+:: {
    local cfg = $._config,
    local sel(matchers=[]) = promql.selector(cfg, matchers),
    local window = cfg.recordingWindow,
    local ended = 'status=~"finished|finished_with_errors|canceled|server_stopped"',
    groups+: [
      {
        name: 'jobmon.rules',
        rules: [
          {
            record: 'job_instance:jobmon_job_records:rate' + window,
            expr: 'sum by (job, instance) (rate(jobmon_job_records_total%s[%s]))' % [sel(), window],
          },
          {
            record: 'job_instance:jobmon_job_rejected_records:rate' + window,
            expr: 'sum by (job, instance) (rate(jobmon_job_rejected_records_total%s[%s]))'
                  % [sel(), window],
          },
          {
            record: 'job_instance_status:jobmon_job_transitions:increase' + window,
            expr: 'sum by (job, instance, status) (increase(jobmon_job_transitions_total%s[%s]))'
                  % [sel([ended]), window],
          },
          {
            record: 'job_instance_level:jobmon_journal_messages:increase' + window,
            expr: 'sum by (job, instance, level) (increase(jobmon_journal_messages_total%s[%s]))'
                  % [sel(), window],
          },
          {
            record: 'job_instance_le:jobmon_job_run_duration_seconds_bucket:rate' + window,
            expr: 'sum by (job, instance, le) (rate(jobmon_job_run_duration_seconds_bucket%s[%s]))'
                  % [sel(), window],
          },
          // The job's usual run duration: the quantile of every run the database retains
          // (the histogram counts them all), for jobs with enough runs to have a usual.
          {
            record: 'job_name:jobmon_job_run_duration_seconds:quantile',
            expr: |||
              histogram_quantile(%g, jobmon_job_run_duration_seconds_bucket%s)
                and on (job, instance, job_name)
              jobmon_job_run_duration_seconds_count%s >= %d
            ||| % [cfg.slowRunQuantile, sel(), sel(), cfg.slowRunMinRuns],
            labels: { quantile: '%g' % cfg.slowRunQuantile },
          },
        ],
      },
    ],
  },
}
