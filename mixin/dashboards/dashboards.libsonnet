// grafanaDashboards: file name -> dashboard.
{
  grafanaDashboards+:: {
    [$._config.dashboardUIDs.overview + '.json']: (import 'overview.libsonnet')($._config),
    [$._config.dashboardUIDs.job + '.json']: (import 'job.libsonnet')($._config),
  },
}
