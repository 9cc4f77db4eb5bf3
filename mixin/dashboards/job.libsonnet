// jobmon / Job: one job of one deployment, picked with the job_name variable.
local g = import '../lib/grafana.libsonnet';
local promql = import '../lib/promql.libsonnet';
local statuses = import '../lib/statuses.libsonnet';
local links = import 'links.libsonnet';

function(cfg)
  local job(matchers=[]) = promql.dashboardSelector(cfg, '="$job_name"', matchers);
  local active = 'max(jobmon_job_status%s) == 1' % job(['status=~"running|pausing|canceling"']);
  local console(tab) = [links.console('$job_name', tab) { url: '${console_url}/jobs/${job_name}' + (if tab == '' then '' else '/' + tab) }];
  local since(metric) = 'max(%s%s > 0) * 1000' % [metric, job()];
  local moment(title, description, expr, legend, tab, noValue='never') =
    g.stat(title, description, [g.target(expr, legend)], w=3, unit='dateTimeFromNow', links=console(tab))
    + { fieldConfig+: { defaults+: { noValue: noValue } } };
  local duration(q) = 'histogram_quantile(%g, max by (le) (increase(jobmon_job_run_duration_seconds_bucket%s[$__range])))' % [q, job()];
  local timeline = 'max(\n' + std.join('\n  or ', [
    'jobmon_job_status%s * %d' % [job(['status="%s"' % statuses[i].name]), i + 1]
    for i in std.range(0, std.length(statuses) - 1)
  ]) + '\n) > 0';
  local ended = ['finished', 'finished_with_errors', 'canceled', 'server_stopped'];

  g.dashboard(
    cfg,
    cfg.dashboardUIDs.job,
    'jobmon / Job',
    'One jobmon job: status over time, records, rejects, durations and outcomes.',
    g.variables(cfg, 'one'),
    links.top(cfg, cfg.dashboardUIDs.overview, 'jobmon / Overview', 'Every job') + [
      links.consoleTop('$job_name in the console: General', '${console_url}/jobs/${job_name}', 'Status, definition, latest run, transitions; Start/Pause/Resume/Cancel'),
      links.consoleTop('$job_name in the console: Journal', '${console_url}/jobs/${job_name}/journal', 'Every message and transition of the latest run'),
      links.consoleTop('$job_name in the console: Rejects', '${console_url}/jobs/${job_name}/rejects', "The latest run's rejected records, and their CSV download"),
      links.consoleTop('$job_name in the console: Runs', '${console_url}/jobs/${job_name}/runs', 'Every run of the job'),
    ],
    [
      g.stat(
        'Status',
        "Status of the job's latest run. Journal and rejected records of a job (run on a host "
        + 'with the jobmon config): `jobmon journal $job_name` and `jobmon rejects $job_name '
        + '--format csv` (add `--run N` for an older run; `jobmon show $job_name` lists the run).',
        [g.target('max by (status) (jobmon_job_status%s == 1)' % job(), instant=true, format='table')],
        fields='/^status$/',
        color='background',
        links=console(''),
      ) + { fieldConfig+: { defaults+: { mappings: [g.statusMapping()] } } },
      g.stat(
        'Kind and schedule',
        'The job\'s kind, schedule (empty when it only runs on request) and the job it runs after.',
        [g.target('max by (kind, schedule, after) (jobmon_job_info%s)' % job(), instant=true, format='table')],
        fields='/^(kind|schedule|after)$/',
        text='value_and_name',
        links=console(''),
      ),
      moment('Last start', 'Start of the latest run. `jobmon show $job_name` shows it in detail.', since('jobmon_job_last_start_timestamp_seconds'), 'last start', 'runs'),
      moment('Last success', 'End of the latest run that finished without errors.', since('jobmon_job_last_success_timestamp_seconds'), 'last success', 'runs'),
      moment('Last failure', 'End of the latest run that finished with errors. Why: `jobmon journal $job_name`.', since('jobmon_job_last_failure_timestamp_seconds'), 'last failure', 'journal'),
      moment('Next run', 'Next scheduled start.', 'max(jobmon_job_next_run_timestamp_seconds%s) * 1000' % job(), 'next run', '', 'not scheduled'),
      g.stat(
        'Rejects (latest run)',
        "Records rejected by the latest run, and the job's max_rejects when it has one. List them: `jobmon rejects $job_name --format csv`.",
        [
          g.target('max(jobmon_job_last_run_rejected_records%s)' % job(), 'rejects'),
          g.target('max(jobmon_job_reject_limit%s)' % job(), 'limit'),
        ],
        text='value_and_name',
        links=console('rejects'),
      ),

      {
        type: 'state-timeline',
        title: 'Status over time',
        description: "The status of the job's latest run at each point in time. Transitions and their causes: `jobmon journal $job_name`.",
        datasource: g.datasource,
        fieldConfig: {
          defaults: {
            mappings: [g.statusMapping(byCode=true)],
            color: { mode: 'thresholds' },
            thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] },
            custom: { fillOpacity: 80, lineWidth: 0, hideFrom: { legend: false, tooltip: false, viz: false } },
            links: console('runs'),
          },
          overrides: [],
        },
        options: {
          mergeValues: true,
          showValue: 'auto',
          alignValue: 'left',
          rowHeight: 0.9,
          legend: { showLegend: true, displayMode: 'list', placement: 'bottom' },
          tooltip: { mode: 'single', sort: 'none' },
        },
        targets: [g.target(timeline, 'status') { refId: 'A' }],
        w:: 24,
        h:: 5,
      },

      g.timeseries(
        'Records read or written',
        'Source records read (imports) or written (exports) per second.',
        [g.target('max(rate(jobmon_job_records_total%s[$__rate_interval]))' % job(), 'records')],
        unit='rps',
        links=console(''),
      ),
      g.timeseries(
        'Rejects by reason',
        'Records rejected per second, by reason. The records themselves, with line, field and message: `jobmon rejects $job_name --format csv` (`--run N` for an older run).',
        [g.target('max by (reason) (rate(jobmon_job_rejected_records_total%s[$__rate_interval]))' % job(), '{{reason}}')],
        unit='rps',
        stacked=true,
        links=console('rejects'),
      ),

      {
        type: 'heatmap',
        title: 'Run duration',
        description: 'Durations of the runs that ended in each interval (histogram jobmon_job_run_duration_seconds).',
        datasource: g.datasource,
        interval: '1m',
        fieldConfig: {
          defaults: {
            custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: 'linear' } },
            links: console('runs'),
          },
          overrides: [],
        },
        options: {
          calculate: false,
          cellGap: 1,
          cellValues: { unit: 'short' },
          color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange', reverse: false, scale: 'exponential' },
          exemplars: { color: 'rgba(255,0,255,0.7)' },
          filterValues: { le: 1e-09 },
          legend: { show: true },
          rowsFrame: { layout: 'le' },
          showValue: 'never',
          tooltip: { mode: 'single', show: true, yHistogram: false },
          yAxis: { axisPlacement: 'left', reverse: false, unit: 's' },
        },
        targets: [g.target('max by (le) (increase(jobmon_job_run_duration_seconds_bucket%s[$__interval]))' % job(), '{{le}}', format='heatmap') { refId: 'A' }],
        w:: 12,
        h:: 8,
      },
      g.stat(
        'Run duration (time range)',
        "Median, 90th and 99th percentile and mean duration of the runs that ended within the dashboard's time range, and the job's usual duration: "
        + 'the %g quantile of all its retained runs, which JobmonJobSlowerThanUsual compares the active run with ' % cfg.slowRunQuantile
        + '(recording rule job_name:jobmon_job_run_duration_seconds:quantile; none before %d runs).' % cfg.slowRunMinRuns,
        [
          g.target(duration(0.5), 'p50', instant=true),
          g.target(duration(0.9), 'p90', instant=true),
          g.target(duration(0.99), 'p99', instant=true),
          g.target(
            'max(increase(jobmon_job_run_duration_seconds_sum%s[$__range])) / max(increase(jobmon_job_run_duration_seconds_count%s[$__range]))' % [job(), job()],
            'mean',
            instant=true,
          ),
          g.target(
            'max(job_name:jobmon_job_run_duration_seconds:quantile%s)' % job(['quantile="%g"' % cfg.slowRunQuantile]),
            'usual (p%g, all runs)' % (100 * cfg.slowRunQuantile),
            instant=true,
          ),
        ],
        w=12,
        h=8,
        unit='s',
        text='value_and_name',
        links=console('runs'),
      ),

      g.timeseries(
        'Runs by outcome',
        'Runs that ended finished, finished with errors, canceled, or were stopped with their runner, per interval. `jobmon show $job_name --run N` and `jobmon journal $job_name --run N` show one run.',
        [g.target(
          'max by (status) (increase(jobmon_job_transitions_total%s[$__interval]))' % job(['status=~"%s"' % std.join('|', ended)]),
          '{{status}}',
        )],
        bars=true,
        stacked=true,
        links=console('runs'),
      ) + { fieldConfig+: { overrides: g.statusOverrides(ended) } },
      g.timeseries(
        'Journal messages',
        'Journal messages written per interval, by level. Read them: `jobmon journal $job_name` (`--run N` for an older run).',
        [g.target('max by (level) (increase(jobmon_journal_messages_total%s[$__interval]))' % job(), '{{level}}')],
        bars=true,
        stacked=true,
        links=console('journal'),
      ) + { fieldConfig+: { overrides: [
        g.field(level.name, { color: { mode: 'fixed', fixedColor: level.color } })
        for level in [
          { name: 'debug', color: 'text' },
          { name: 'info', color: 'blue' },
          { name: 'warning', color: 'orange' },
          { name: 'error', color: 'red' },
        ]
      ] } },

      g.table(
        'Runs by status',
        'How many of the job\'s runs entered each status, within the time range and since the job was created (metrics carry no run numbers). One run in detail: `jobmon show $job_name --run N`, `jobmon journal $job_name --run N`, `jobmon rejects $job_name --run N --format csv`.',
        [
          g.target('max by (status) (increase(jobmon_job_transitions_total%s[$__range]))' % job(), instant=true, format='table'),
          g.target('max by (status) (jobmon_job_transitions_total%s)' % job(), instant=true, format='table'),
        ],
        w=12,
      ) + {
        fieldConfig+: {
          defaults+: { links: console('runs') },
          overrides: [g.field('Status', { mappings: [g.statusMapping()], 'custom.cellOptions': { type: 'color-text' } })],
        },
        transformations: [
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true },
              indexByName: { status: 0, 'Value #A': 1, 'Value #B': 2 },
              renameByName: { status: 'Status', 'Value #A': 'Time range', 'Value #B': 'Since the job was created' },
            },
          },
        ],
      },
      g.stat(
        'Runs started',
        'Runs created within the time range and since the job was created (`jobmon show $job_name` shows the latest).',
        [
          g.target('max(increase(jobmon_job_runs_total%s[$__range]))' % job(), 'time range', instant=true),
          g.target('max(jobmon_job_runs_total%s)' % job(), 'since creation', instant=true),
        ],
        w=6,
        h=10,
        text='value_and_name',
        links=console('runs'),
      ),
      g.stat(
        'Active run',
        'While a run is active (running, pausing, canceling): how long since it started, the job\'s time limit (max_duration_seconds, if any) and the age of its last heartbeat (runners beat every 5 s; a run is reaped after 30 s without one). Its progress: `jobmon journal $job_name`.',
        [
          g.target('(time() - max(jobmon_job_last_start_timestamp_seconds%s)) and on () (%s)' % [job(), active], 'running for'),
          g.target('max(jobmon_job_max_duration_seconds%s)' % job(), 'time limit'),
          g.target('(time() - max(jobmon_job_heartbeat_timestamp_seconds%s)) and on () (%s)' % [job(), active], 'heartbeat age'),
        ],
        w=6,
        h=10,
        unit='s',
        text='value_and_name',
        links=console(''),
      ) + { fieldConfig+: { defaults+: { noValue: 'not running' } } },
    ],
    annotations=[{
      name: 'Failed and stopped runs',
      enable: true,
      hide: false,
      iconColor: 'red',
      datasource: g.datasource,
      expr: 'max by (status) (increase(jobmon_job_transitions_total%s[$__interval])) > 0' % job(['status=~"finished_with_errors|server_stopped"']),
      step: '1m',
      titleFormat: '{{status}}',
      textFormat: 'jobmon journal $job_name',
      tagKeys: 'status',
      useValueForTime: false,
    }],
  )
