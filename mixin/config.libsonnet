// What a team sets to drop jobmon into its own monitoring. Override any field:
//   (import 'mixin.libsonnet') + { _config+:: { jobmonSelector: 'job="jobmon-prod"' } }
{
  _config+:: {
    // Selects jobmon's series among everything Prometheus scrapes. Every alert expression,
    // recording rule and dashboard query carries it, so two jobmon deployments scraped by one
    // Prometheus never mix (render the mixin once per deployment with its own selector).
    jobmonSelector: 'job="jobmon"',

    // Links in alerts. %s becomes the alert name in lower case: the runbook's section anchor.
    runbookURLPattern: 'alerts/runbook.md#%s',
    // Base URL of the web console (served by the exporter), without a trailing slash.
    consoleURL: 'http://127.0.0.1:9736',
    // Base URL of Grafana, for the dashboards linked from alerts.
    grafanaURL: 'http://localhost:3000',

    // Dashboards.
    dashboardTags: ['jobmon'],
    dashboardUIDs: { overview: 'jobmon-overview', job: 'jobmon-job' },
    dashboardRefresh: '1m',
    dashboardTimezone: '',

    // What each severity means: critical pages someone now, warning opens a ticket for working
    // hours, info is an early sign shown to whoever looks (route it to a dashboard or a chat).
    severities: { page: 'critical', ticket: 'warning', info: 'info' },

    // Job alerts keep firing this long after their cause is gone, so a firing alert rides out
    // an exporter restart (its series go stale at once) and no "resolved" reaches the pager.
    keepFiringFor: '5m',

    // Thresholds, one per alert (durations in Prometheus's format, ages in seconds).
    failedFor: '1m',
    serverStoppedFor: '10m',
    stuckFor: '15m',
    runningTooLongFor: '5m',
    // Runners beat every 5 s and reap after 30 s without a beat (runner defaults): raise this
    // if runner.stale_after_seconds is raised above about 90.
    heartbeatStaleSeconds: 120,
    heartbeatStaleFor: '3m',
    overdueSeconds: 600,
    overdueFor: '5m',
    waitingForRunnerFor: '10m',
    rejectsNearLimitRatio: 0.8,
    rejectsNearLimitFor: '1m',
    // A run slower than this quantile of the job's retained runs, once it has this many.
    slowRunQuantile: 0.9,
    slowRunMinRuns: 5,
    slowRunFor: '5m',
    exporterDownFor: '5m',
    // How long a scrape target that service discovery lost is still reported as down.
    exporterLostWindow: '1d',
    databaseDownFor: '2m',

    // Recording rules: the window of the rates and increases the overview aggregates.
    recordingWindow: '5m',
  },
}
