// prometheusAlerts: the job alerts and the exporter's own health, in one group.
//
// Every job alert is about the job's latest run (or its latest completed run), so it clears by
// itself when a later run goes well: no alert stays firing forever after one bad night.
//
// A monitoring outage must not page anyone, nor tell the pager a job alert is resolved:
// - While the exporter cannot read its database it keeps serving the job series of its last
//   successful read (with jobmon_database_up 0, which JobmonDatabaseDown reports), so job alerts
//   neither resolve nor fire because of the outage. Alerts that compare times use
//   jobmon_last_successful_read_timestamp_seconds, not time(): frozen series do not age.
// - While the exporter itself is stopped (restart, upgrade), its series go stale at once.
//   Every job alert has keep_firing_for (_config.keepFiringFor), so a firing alert rides out a
//   stop of a few minutes and Alertmanager sends no "resolved". The price: a job alert resolves
//   that much later after its cause is gone. A pending alert starts its for: again after a gap.
local jobs = import 'jobs.libsonnet';
local progress = import 'progress.libsonnet';
local exporter = import 'exporter.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      { name: 'jobmon', rules: jobs($._config) + progress($._config) + exporter($._config) },
    ],
  },
}
