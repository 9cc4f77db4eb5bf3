// Runs that do not move as they should: stuck, too long, without heartbeat, overdue, slow,
// near their reject limit. Ages are taken at the exporter's last successful read, so they do
// not grow while the database is unreadable (JobmonDatabaseDown covers that).
local common = import 'common.libsonnet';
local promql = import '../lib/promql.libsonnet';

function(cfg)
  local sel(matchers=[]) = promql.selector(cfg, matchers);
  local status = common.currentStatus(cfg);
  local active = 'jobmon_job_status%s == 1' % sel(['status=~"running|pausing|canceling"']);
  // Seconds from a per-job timestamp to the exporter's last successful read.
  local age(metric) =
    '  jobmon_last_successful_read_timestamp_seconds%s\n' % sel()
    + '    - on (job, instance) group_right\n'
    + '  %s%s\n' % [metric, sel()];
  [
    // Pause and cancel take effect at the job's next checkpoint; a request not acknowledged
    // for this long means the job does not reach checkpoints. The status label is aggregated
    // away: a cancel requested while pausing (pausing -> canceling) is the same wait and keeps
    // its for: period instead of starting a new alert.
    common.jobAlert(
      cfg,
      'JobmonJobStuck',
      'page',
      cfg.stuckFor,
      'max without (status) (jobmon_job_status%s) == 1' % sel(['status=~"pausing|canceling"']),
      'jobmon job {{ $labels.job_name }} is stuck pausing or canceling',
      'The latest run of job {{ $labels.job_name }} has been pausing or canceling for more '
      + 'than %s (current status: %s): the runner has not reached a checkpoint to act on the '
        % [promql.words(cfg.stuckFor), status]
      + 'request.',
      'journal',
    ),

    // A run still active with a heartbeat this old means no live runner is reaping: the run
    // is a zombie, as stuck as a run can be.
    common.jobAlert(
      cfg,
      'JobmonJobHeartbeatStale',
      'page',
      cfg.heartbeatStaleFor,
      |||
        (
        %s    > %d
        )
        and ignoring (status)
          %s
      ||| % [age('jobmon_job_heartbeat_timestamp_seconds'), cfg.heartbeatStaleSeconds, active],
      'jobmon job {{ $labels.job_name }} has a run without heartbeat',
      'The latest run of job {{ $labels.job_name }} still has status %s ' % status
      + 'but its last heartbeat is {{ $value | humanizeDuration }} old: its runner is gone and '
      + 'no runner has reaped the run.',
    ),

    // Only jobs with max_duration_seconds have the limit series, so others never match.
    common.jobAlert(
      cfg,
      'JobmonJobRunningTooLong',
      'ticket',
      cfg.runningTooLongFor,
      |||
        (
        %s    > jobmon_job_max_duration_seconds%s
        )
        and ignoring (status)
          %s
      ||| % [age('jobmon_job_last_start_timestamp_seconds'), sel(), active],
      'jobmon job {{ $labels.job_name }} runs longer than its time limit',
      'The latest run of job {{ $labels.job_name }} (status %s) started ' % status
      + '{{ $value | humanizeDuration }} ago, more than its max_duration_seconds of '
      + '{{ with printf `max(jobmon_job_max_duration_seconds'
      + '{job=%q, instance=%q, job_name=%q}'
      + ')` $labels.job $labels.instance $labels.job_name | query }}'
      + '{{ . | first | value | humanizeDuration }}{{ end }}.',
    ),

    // Runners store each scheduled job's next fire time and move it forward when it fires
    // (even when the fire is skipped because the previous run is not over). A fire time this
    // far in the past with no start since means no scheduler is running, or the fire was lost.
    // Active runs are left out: a fire skipped because the previous run is still going is
    // JobmonJobRunningTooLong's business.
    common.jobAlert(
      cfg,
      'JobmonJobOverdue',
      'ticket',
      cfg.overdueFor,
      |||
        (
        %s    > %d
        )
        and ignoring (status)
          (jobmon_job_last_start_timestamp_seconds%s < jobmon_job_next_run_timestamp_seconds%s)
        unless ignoring (status)
          %s
      ||| % [age('jobmon_job_next_run_timestamp_seconds'), cfg.overdueSeconds, sel(), sel(), active],
      'jobmon job {{ $labels.job_name }} missed its scheduled start',
      'Job {{ $labels.job_name }} was due to start {{ $value | humanizeDuration }} ago and has '
      + 'not started since (status: %s): no runner is scheduling it.' % status,
    ),

    // An early sign: only jobs with max_rejects have the limit series; a limit of 0 fails on
    // the first reject, which JobmonJobFailed reports.
    common.jobAlert(
      cfg,
      'JobmonJobRejectsNearLimit',
      'info',
      cfg.rejectsNearLimitFor,
      |||
        (
          jobmon_job_last_run_rejected_records%s / jobmon_job_reject_limit%s >= %g
        )
        and
          jobmon_job_reject_limit%s > 0
      ||| % [sel(), sel(), cfg.rejectsNearLimitRatio, sel()],
      'jobmon job {{ $labels.job_name }} is near its reject limit',
      'The latest run of job {{ $labels.job_name }} (status %s) has rejected ' % status
      + '{{ $value | humanizePercentage }} of its max_rejects; past the limit the run ends '
      + 'finished_with_errors.',
      'rejects',
    ),

    // An early sign: the active run has already taken longer than the job's usual runs (the
    // quantile of its retained runs, recorded by the rules; jobs with too few runs have none).
    common.jobAlert(
      cfg,
      'JobmonJobSlowerThanUsual',
      'info',
      cfg.slowRunFor,
      |||
        (
        %s    > on (job, instance, job_name)
          job_name:jobmon_job_run_duration_seconds:quantile%s
        )
        and ignoring (status)
          %s
      ||| % [
        age('jobmon_job_last_start_timestamp_seconds'),
        sel(['quantile="%g"' % cfg.slowRunQuantile]),
        active,
      ],
      'jobmon job {{ $labels.job_name }} runs slower than usual',
      'The latest run of job {{ $labels.job_name }} (status %s) started ' % status
      + '{{ $value | humanizeDuration }} ago, longer than %g%% of the job\'s past runs took.'
        % (100 * cfg.slowRunQuantile),
    ),
  ]
