// The nine statuses of SPEC.md §2 in their order, as jobmon's CLI and console show them:
// icon, label, and the colour dashboards give them. `code` is the status timeline's number.
[
  { name: 'editing', icon: '✎', label: 'Being edited', color: 'purple' },
  { name: 'running', icon: '▶', label: 'Running', color: 'blue' },
  { name: 'pausing', icon: '⏸', label: 'Pausing', color: 'light-yellow' },
  { name: 'paused', icon: '⏸', label: 'Paused', color: 'yellow' },
  { name: 'canceling', icon: '⊘', label: 'Canceling', color: 'light-orange' },
  { name: 'canceled', icon: '⊘', label: 'Canceled', color: 'orange' },
  { name: 'finished', icon: '✔', label: 'Finished', color: 'green' },
  { name: 'finished_with_errors', icon: '✖', label: 'Finished with errors', color: 'red' },
  { name: 'server_stopped', icon: '⏻', label: 'Server stopped', color: 'dark-red' },
]
