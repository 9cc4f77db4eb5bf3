// What every jobmon alert carries: severity, runbook, dashboard and, for job alerts, the
// console tab that shows the cause ('' is the General tab).
{
  // The status of the alert's job right now, as text for an annotation. Its series is the
  // one the alert's labels name (job, instance, job_name): no selector needed.
  currentStatus(cfg)::
    '{{ with printf `max by (status) (jobmon_job_status'
    + '{job=%q, instance=%q, job_name=%q}'
    + ' == 1)` $labels.job $labels.instance $labels.job_name | query }}'
    + '{{ . | first | label "status" }}{{ else }}unknown{{ end }}',

  local dashboard(cfg, uid) = '%s/d/%s/%s' % [cfg.grafanaURL, uid, uid],
  local runbook(cfg, name) = cfg.runbookURLPattern % std.asciiLower(name),

  // An alert about one job: held through exporter restarts, linked to the job dashboard and
  // to the console tab that shows its cause.
  jobAlert(cfg, name, severity, wait, expr, summary, description, tab=''):: {
    alert: name,
    expr: expr,
    'for': wait,
    keep_firing_for: cfg.keepFiringFor,
    labels: { severity: cfg.severities[severity] },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: runbook(cfg, name),
      dashboard_url: dashboard(cfg, cfg.dashboardUIDs.job)
                     + '?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}'
                     + '&var-job_name={{ $labels.job_name }}',
      console_url: cfg.consoleURL + '/jobs/{{ $labels.job_name }}'
                   + (if tab == '' then '' else '/' + tab),
    },
  },

  // An alert about the exporter itself. No console link: the console is served by the
  // exporter and reads the same database, so it is down with it.
  exporterAlert(cfg, name, severity, wait, expr, summary, description):: {
    alert: name,
    expr: expr,
    'for': wait,
    labels: { severity: cfg.severities[severity] },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: runbook(cfg, name),
      dashboard_url: dashboard(cfg, cfg.dashboardUIDs.overview)
                     + '?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}',
    },
  },
}
