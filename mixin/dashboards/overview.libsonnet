// jobmon / Overview: every job of one deployment. The "All jobs" row reads the recording rules
// (prometheusRules), so it costs the same at 10 or 10,000 jobs; the rows below show jobs one
// by one, narrowed by the job_name variable.
local g = import '../lib/grafana.libsonnet';
local promql = import '../lib/promql.libsonnet';
local links = import 'links.libsonnet';

function(cfg)
  local jobs(matchers=[]) = promql.dashboardSelector(cfg, '=~"$job_name"', matchers);
  local deployment(matchers=[]) = promql.dashboardSelector(cfg, null, matchers);
  local table(expr) = g.target(expr, instant=true, format='table');
  local toJob = links.jobDashboard(cfg, '${__field.labels.job_name}');
  local cli = 'Journal and rejected records of a job (run on a host with the jobmon config): '
              + '`jobmon journal <job>` and `jobmon rejects <job> --format csv` (add `--run N` '
              + 'for an older run; `jobmon show <job>` lists the run).';
  local rowConsole(tab) = links.console('${__data.fields.job_name}', tab);
  local w = cfg.recordingWindow;
  local allJobs(record, by='') =
    'max%s (%s%s)' % [if by == '' then '' else ' by (%s)' % by, record, deployment()];

  g.dashboard(
    cfg,
    cfg.dashboardUIDs.overview,
    'jobmon / Overview',
    'Every jobmon job: statuses, failures, throughput, durations, and the exporter.',
    g.variables(cfg, 'many'),
    links.top(cfg, cfg.dashboardUIDs.job, 'jobmon / Job', 'One job in detail: status timeline, records, rejects, durations'),
    [
      g.row('Jobs'),
      g.stat(
        'Jobs by status',
        'How many jobs are in each status (the status of a job is the status of its latest run; '
        + 'a job that never ran shows Being edited). Replicas of one exporter report the same '
        + 'counts, hence max rather than sum.',
        [g.target('max by (status) (jobmon_jobs%s)' % deployment(), '{{status}}')],
        w=24,
        text='value_and_name',
        color='background',
        links=[g.link(
          'Open the jobs whose status is ${__field.labels.status} in the jobmon console',
          '${console_url}/jobs?status=${__field.labels.status}',
        )],
      ) + { fieldConfig+: { overrides: g.statusOverrides([s.name for s in import '../lib/statuses.libsonnet']) } },

      g.table(
        'Jobs',
        'Every job with the status of its latest run. Click a job to open its dashboard. ' + cli,
        [
          table('max by (job_name, status) (jobmon_job_status%s == 1)' % jobs()),
          table('max by (job_name, kind, schedule, after) (jobmon_job_info%s)' % jobs()),
          table('max by (job_name) (jobmon_job_last_start_timestamp_seconds%s > 0) * 1000' % jobs()),
          table('time() - max by (job_name) (jobmon_job_last_success_timestamp_seconds%s > 0)' % jobs()),
          table('max by (job_name) (jobmon_job_next_run_timestamp_seconds%s) * 1000' % jobs()),
          table('max by (job_name) (increase(jobmon_job_records_total%s[$__range]))' % jobs()),
          table('max by (job_name) (jobmon_job_last_run_rejected_records%s)' % jobs()),
          table('max by (job_name) (jobmon_job_reject_limit%s)' % jobs()),
        ],
      ) + {
        options+: { sortBy: [{ displayName: 'Job', desc: false }] },
        fieldConfig+: {
          defaults+: { custom+: { filterable: true } },
          overrides: [
            g.field('Job', { links: [
              links.jobDashboard(cfg, '${__value.raw}') { title: 'Open the jobmon / Job dashboard for ${__value.text}' },
              rowConsole(''),
              rowConsole('journal'),
              rowConsole('rejects'),
              rowConsole('runs'),
            ] }),
            g.field('Status', {
              links: [rowConsole(''), rowConsole('journal')],
              mappings: [g.statusMapping()],
              'custom.cellOptions': { type: 'color-text' },
            }),
            g.field('Last start', { links: [rowConsole('runs')], unit: 'dateTimeFromNow' }),
            g.field('Since last success', { unit: 's', noValue: 'never' }),
            g.field('Next run', { unit: 'dateTimeFromNow', noValue: 'not scheduled' }),
            g.field('After', { noValue: '' }),
            g.field('Rejects (latest run)', {
              links: [rowConsole('rejects')],
              'custom.cellOptions': { type: 'color-text' },
              thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }, { color: 'orange', value: 1 }] },
            }),
            g.field('Reject limit', { noValue: 'none' }),
          ],
        },
        transformations: [
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, 'Value #A': true, 'Value #B': true },
              indexByName: {
                job_name: 0,
                status: 1,
                kind: 2,
                schedule: 3,
                after: 4,
                'Value #C': 5,
                'Value #D': 6,
                'Value #E': 7,
                'Value #F': 8,
                'Value #G': 9,
                'Value #H': 10,
              },
              renameByName: {
                job_name: 'Job',
                status: 'Status',
                kind: 'Kind',
                schedule: 'Schedule',
                after: 'After',
                'Value #C': 'Last start',
                'Value #D': 'Since last success',
                'Value #E': 'Next run',
                'Value #F': 'Records (time range)',
                'Value #G': 'Rejects (latest run)',
                'Value #H': 'Reject limit',
              },
            },
          },
        ],
      },

      g.row('All jobs'),
      g.timeseries(
        'Runs ended, all jobs',
        'Runs of every job that ended in each %s window, by outcome (recording rule ' % w
        + 'job_instance_status:jobmon_job_transitions:increase%s).' % w,
        [g.target(allJobs('job_instance_status:jobmon_job_transitions:increase' + w, 'status'), '{{status}}')],
        w=8,
        bars=true,
        stacked=true,
      ) + { fieldConfig+: { overrides: g.statusOverrides(['finished', 'finished_with_errors', 'canceled', 'server_stopped']) } },
      g.timeseries(
        'Records and rejects per second, all jobs',
        'Records read or written and records rejected per second by every job together '
        + '(recording rules job_instance:jobmon_job_records:rate%s and ' % w
        + 'job_instance:jobmon_job_rejected_records:rate%s).' % w,
        [
          g.target(allJobs('job_instance:jobmon_job_records:rate' + w), 'records'),
          g.target(allJobs('job_instance:jobmon_job_rejected_records:rate' + w), 'rejects'),
        ],
        w=8,
        unit='rps',
      ),
      g.timeseries(
        'Journal messages, all jobs',
        'Journal messages of every job in each %s window, by level (recording rule ' % w
        + 'job_instance_level:jobmon_journal_messages:increase%s).' % w,
        [g.target(allJobs('job_instance_level:jobmon_journal_messages:increase' + w, 'level'), '{{level}}')],
        w=8,
        bars=true,
        stacked=true,
      ),

      g.row('Failures'),
      g.timeseries(
        'Failed and stopped runs',
        'Runs that ended Finished with errors, and runs interrupted because their runner '
        + 'stopped (Server stopped), per job: increases of jobmon_job_transitions_total. '
        + "Click a bar to open the job's dashboard. " + cli,
        [g.target(
          'max by (job_name, status) (increase(jobmon_job_transitions_total%s[$__interval]))'
          % jobs(['status=~"finished_with_errors|server_stopped"']),
          '{{job_name}} {{status}}',
        )],
        bars=true,
        stacked=true,
        links=[toJob, links.console('${__field.labels.job_name}', 'journal')],
      ),
      g.timeseries(
        'Journal warnings and errors',
        'Journal messages at warning and error level, per job. Read them with `jobmon journal <job>`.',
        [g.target(
          'max by (job_name, level) (increase(jobmon_journal_messages_total%s[$__interval]))'
          % jobs(['level=~"warning|error"']),
          '{{job_name}} {{level}}',
        )],
        bars=true,
        stacked=true,
        links=[toJob, links.console('${__field.labels.job_name}', 'journal')],
      ),

      g.row('Throughput'),
      g.timeseries(
        'Records per second',
        'Source records read by imports and records written by exports, per job.',
        [g.target('max by (job_name) (rate(jobmon_job_records_total%s[$__rate_interval]))' % jobs(), '{{job_name}}')],
        unit='rps',
        links=[toJob, links.console('${__field.labels.job_name}')],
      ),
      g.timeseries(
        'Rejected records per second',
        'Records rejected, per job (all reasons). The job dashboard splits them by reason. '
        + 'List them with `jobmon rejects <job> --format csv`.',
        [g.target(
          'sum by (job_name) (max by (job_name, reason) (rate(jobmon_job_rejected_records_total%s[$__rate_interval])))'
          % jobs(),
          '{{job_name}}',
        )],
        unit='rps',
        links=[toJob, links.console('${__field.labels.job_name}', 'rejects')],
      ),

      g.row('Durations'),
      g.timeseries(
        'Run duration p95, all jobs (runs ended in the trailing hour)',
        '95th percentile of the duration of the runs of every job that ended in the hour '
        + 'before each point (recording rule '
        + 'job_instance_le:jobmon_job_run_duration_seconds_bucket:rate%s; ' % w
        + 'values are interpolated within the histogram buckets).',
        [g.target(
          'histogram_quantile(0.95, max by (le) (avg_over_time(job_instance_le:jobmon_job_run_duration_seconds_bucket:rate%s%s[1h])))'
          % [w, deployment()],
          'p95',
        )],
        w=8,
        unit='s',
      ),
      g.timeseries(
        'Run duration p95 per job (runs ended in the trailing hour)',
        '95th percentile of the duration of runs that ended in the hour before each point, '
        + 'per job, from the jobmon_job_run_duration_seconds histogram (values are '
        + 'interpolated within its buckets).',
        [g.target(
          'histogram_quantile(0.95, max by (job_name, le) (increase(jobmon_job_run_duration_seconds_bucket%s[1h])))' % jobs(),
          '{{job_name}}',
        )],
        w=8,
        unit='s',
        links=[toJob, links.console('${__field.labels.job_name}', 'runs')],
      ),
      {
        type: 'bargauge',
        title: 'Run duration p50 and p95 (time range)',
        description: "Median and 95th percentile duration of the runs that ended within the dashboard's time range, per job.",
        datasource: g.datasource,
        fieldConfig: {
          defaults: {
            unit: 's',
            min: 0,
            color: { mode: 'continuous-GrYlRd' },
            links: [toJob, links.console('${__field.labels.job_name}', 'runs')],
            thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
          },
          overrides: [],
        },
        options: {
          displayMode: 'gradient',
          orientation: 'horizontal',
          showUnfilled: true,
          valueMode: 'color',
          namePlacement: 'auto',
          sizing: 'auto',
          minVizHeight: 10,
          minVizWidth: 0,
          maxVizHeight: 300,
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        },
        local quantile(q) = 'histogram_quantile(%g, max by (job_name, le) (increase(jobmon_job_run_duration_seconds_bucket%s[$__range])))' % [q, jobs()],
        targets: [
          g.target(quantile(0.5), '{{job_name}} p50', instant=true) { refId: 'A' },
          g.target(quantile(0.95), '{{job_name}} p95', instant=true) { refId: 'B' },
        ],
        w:: 8,
        h:: 8,
      },

      g.row('Exporter'),
      g.stat(
        'Database',
        "Whether the exporter's last scrape could read the jobmon database.",
        [g.target('min(jobmon_database_up%s)' % deployment(), 'database')],
        color='background',
      ) + { fieldConfig+: { defaults+: { mappings: [{ type: 'value', options: {
        '1': { text: 'up', color: 'green', index: 0 },
        '0': { text: 'down', color: 'red', index: 1 },
      } }] } } },
      g.stat(
        'Version',
        'The jobmon version the exporter runs (jobmon_build_info).',
        [g.target('max by (version) (jobmon_build_info%s)' % deployment(), '{{version}}', instant=true, format='table')],
        fields='/^version$/',
      ),
      g.timeseries(
        'Scrape duration',
        'Time each scrape took to read the database and render the metrics. It grows with the '
        + 'number of jobs, never with the length of the history.',
        [g.target('max by (instance) (jobmon_scrape_duration_seconds%s)' % deployment(), '{{instance}}')],
        w=8,
        h=4,
        unit='s',
      ),
      g.timeseries(
        'Failed scrapes',
        'Scrapes that could not read the database (jobmon_scrape_errors_total), and the age of '
        + 'the job series served meanwhile: time since the last successful read '
        + '(jobmon_last_successful_read_timestamp_seconds, right axis).',
        [
          g.target('max by (instance) (increase(jobmon_scrape_errors_total%s[$__interval]))' % deployment(), '{{instance}}'),
          g.target('time() - max by (instance) (jobmon_last_successful_read_timestamp_seconds%s > 0)' % deployment(), '{{instance}} data age'),
        ],
        w=8,
        h=4,
        bars=true,
      ) + { fieldConfig+: { overrides: [{
        matcher: { id: 'byFrameRefID', options: 'B' },
        properties: [
          { id: 'unit', value: 's' },
          { id: 'custom.drawStyle', value: 'line' },
          { id: 'custom.axisPlacement', value: 'right' },
        ],
      }] } },
    ],
  )
