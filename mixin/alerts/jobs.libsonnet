// How runs end: failed, stopped with their runner, never claimed.
local common = import 'common.libsonnet';
local promql = import '../lib/promql.libsonnet';

function(cfg)
  local sel(matchers=[]) = promql.selector(cfg, matchers);
  local status = common.currentStatus(cfg);
  [
    // The latest completed run failed: it ended after the latest successful one. Comparing the
    // two end times (rather than only the status gauge) keeps the alert firing while a retry
    // runs, clears it as soon as a later run finishes successfully, and does not flap on a job
    // that fails every minute. A job whose status is finished_with_errors always matches, since
    // its failure time is then the newest of the two.
    common.jobAlert(
      cfg,
      'JobmonJobFailed',
      'page',
      cfg.failedFor,
      |||
        jobmon_job_last_failure_timestamp_seconds%s
          > jobmon_job_last_success_timestamp_seconds%s
      ||| % [sel(), sel()],
      'jobmon job {{ $labels.job_name }} finished with errors',
      'The latest completed run of job {{ $labels.job_name }} ended with status '
      + 'finished_with_errors at {{ $value | humanizeTimestamp }} and no run has finished '
      + 'successfully since (current status: ' + status + ').',
      'journal',
    ),

    // A run is server_stopped when its runner went away (shutdown, crash, lost heartbeat).
    // Another runner normally restarts it from its last checkpoint within seconds, so only a
    // run left stopped for a while needs someone.
    common.jobAlert(
      cfg,
      'JobmonJobServerStopped',
      'page',
      cfg.serverStoppedFor,
      'jobmon_job_status%s == 1' % sel(['status="server_stopped"']),
      'jobmon job {{ $labels.job_name }} stopped with its runner',
      'The latest run of job {{ $labels.job_name }} has had status server_stopped for more '
      + 'than %s: its runner stopped and no runner has restarted the run.' % promql.words(cfg.serverStoppedFor),
      'journal',
    ),

    // A created run (status editing) that no runner claims. A job that has never run also shows
    // editing, so only jobs with at least one run created count.
    common.jobAlert(
      cfg,
      'JobmonJobWaitingForRunner',
      'ticket',
      cfg.waitingForRunnerFor,
      |||
        jobmon_job_status%s == 1
        and ignoring (status)
          jobmon_job_runs_total%s > 0
      ||| % [sel(['status="editing"']), sel()],
      'jobmon job {{ $labels.job_name }} waits for a runner',
      'The latest run of job {{ $labels.job_name }} has had status editing (created, not '
      + 'started) for more than %s: no runner claims it.' % promql.words(cfg.waitingForRunnerFor),
    ),
  ]
