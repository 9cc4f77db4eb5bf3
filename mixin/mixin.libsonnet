// The jobmon monitoring mixin: alerts, recording rules and dashboards, configured in _config.
(import 'config.libsonnet')
+ (import 'alerts/alerts.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
