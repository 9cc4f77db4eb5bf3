// Links between the dashboards and into the web console, from one place.
local g = import '../lib/grafana.libsonnet';

{
  // The job dashboard for the job a data point belongs to (`job` is how the link names it,
  // e.g. ${__field.labels.job_name}), keeping the data source, deployment and time range.
  jobDashboard(cfg, job):: g.link(
    'Open the jobmon / Job dashboard for ' + job,
    '/d/%s/%s?var-job_name=%s&${datasource:queryparam}&${job:queryparam}&${instance:queryparam}&${__url_time_range}'
    % [cfg.dashboardUIDs.job, cfg.dashboardUIDs.job, job],
    blank=false,
  ),

  // A job's console tab ('' is General) in a new browser tab.
  console(job, tab=''):: g.link(
    'Open %s in the jobmon console: %s' % [job, if tab == '' then 'General' else std.asciiUpper(tab[0]) + tab[1:]],
    '${console_url}/jobs/' + job + (if tab == '' then '' else '/' + tab),
  ),

  // The links at the top of a dashboard: the other dashboard, every jobmon dashboard, the
  // console's job list.
  top(cfg, other, otherTitle, tooltip):: [
    {
      title: otherTitle,
      type: 'link',
      icon: 'dashboard',
      url: '/d/%s/%s' % [other, other],
      keepTime: true,
      includeVars: true,
      asDropdown: false,
      targetBlank: false,
      tags: [],
      tooltip: tooltip,
    },
    {
      title: 'jobmon dashboards',
      type: 'dashboards',
      tags: cfg.dashboardTags,
      asDropdown: true,
      icon: 'external link',
      includeVars: false,
      keepTime: true,
      targetBlank: false,
      tooltip: '',
      url: '',
    },
    self.consoleTop('jobmon console', '${console_url}/jobs', 'Every job in the web console: statuses, journal, rejects, Start/Pause/Resume/Cancel'),
  ],

  consoleTop(title, url, tooltip):: {
    title: title,
    type: 'link',
    icon: 'external link',
    url: url,
    keepTime: false,
    includeVars: false,
    asDropdown: false,
    targetBlank: true,
    tags: [],
    tooltip: tooltip,
  },
}
