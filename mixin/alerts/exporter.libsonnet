// The exporter's own health: its scrape target and its database. Neither pages: while the
// exporter or its database is down, job alerts hold their state (see alerts.libsonnet).
local common = import 'common.libsonnet';
local promql = import '../lib/promql.libsonnet';

function(cfg)
  local up = 'up' + promql.selector(cfg);
  [
    // Three parts, each carrying an instance label so that routing and grouping by instance
    // work for all of them:
    // 1. a target that fails its scrapes (up == 0);
    // 2. a target that service discovery lost, which up == 0 cannot see: it had an up series
    //    within exporterLostWindow and has none now (its last job and instance name it);
    // 3. no jobmon target at all for that long (never configured, or the selector no longer
    //    matches): there is no instance to name, so instance is "none".
    common.exporterAlert(
      cfg,
      'JobmonExporterDown',
      'ticket',
      cfg.exporterDownFor,
      |||
        %(up)s == 0
        or
        (
          max_over_time(%(up)s[%(window)s])
            unless on (job, instance)
          %(up)s
        )
        or
        (
          label_replace(absent(%(up)s), "instance", "none", "", "")
            unless on ()
          max_over_time(%(up)s[%(window)s])
        )
      ||| % { up: up, window: cfg.exporterLostWindow },
      'jobmon exporter is down{{ if ne $labels.instance "none" }} at {{ $labels.instance }}{{ end }}',
      'Prometheus cannot scrape the jobmon exporter '
      + '{{ if ne $labels.instance "none" }}at {{ $labels.instance }} (scrape job {{ $labels.job }})'
      + '{{ else }}(no target matches %s)' % cfg.jobmonSelector
      + '{{ end }} for %s: no job status is known and no other jobmon alert can fire.'
        % promql.words(cfg.exporterDownFor),
    ),

    common.exporterAlert(
      cfg,
      'JobmonDatabaseDown',
      'ticket',
      cfg.databaseDownFor,
      'jobmon_database_up%s == 0' % promql.selector(cfg),
      'jobmon exporter {{ $labels.instance }} cannot read its database',
      'The jobmon exporter at {{ $labels.instance }} has failed to read its database for %s. '
        % promql.words(cfg.databaseDownFor)
      + 'Runners use the same database: jobs can neither start nor record progress, and job '
      + 'statuses are unknown.',
    ),
  ]
