// Selectors: every series jobmon's alerts, rules and dashboards read goes through one of these.
{
  // {<jobmonSelector>, <matchers>...}
  selector(cfg, matchers=[]):: '{' + std.join(', ', [cfg.jobmonSelector] + matchers) + '}',

  // A dashboard's selector: the mixin's, then the dashboard variables that narrow it.
  // job and instance pick a deployment and its replicas; job_name picks jobmon's jobs.
  dashboardSelector(cfg, jobNameMatcher, matchers=[])::
    self.selector(
      cfg,
      ['job="$job"', 'instance=~"$instance"']
      + (if jobNameMatcher == null then [] else ['job_name' + jobNameMatcher])
      + matchers
    ),

  // A Prometheus duration as words, for annotations: '10m' -> '10 minutes', '1h' -> '1 hour'.
  words(duration)::
    local units = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };
    local n = std.parseInt(duration[:std.length(duration) - 1]);
    local unit = units[duration[std.length(duration) - 1]];
    '%d %s%s' % [n, unit, if n == 1 then '' else 's'],
}
