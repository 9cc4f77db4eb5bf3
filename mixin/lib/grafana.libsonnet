// Small builders for Grafana dashboard JSON (schema 39): only what jobmon's dashboards use.
// Panels carry their size in hidden fields w and h; grid() places them left to right and top
// to bottom and numbers them, so dashboards list panels without coordinates.
local statuses = import 'statuses.libsonnet';

local datasource = { type: 'prometheus', uid: '${datasource}' };
local plainThresholds = { mode: 'absolute', steps: [{ color: 'text', value: null }] };

{
  datasource: datasource,

  target(expr, legend='__auto', instant=false, format='time_series'):: {
    datasource: datasource,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
    format: format,
  },

  link(title, url, blank=true):: { title: title, url: url } + (if blank then { targetBlank: true } else {}),

  // Status names (or timeline codes) shown with the icon, label and colour of the console.
  statusMapping(byCode=false):: {
    type: 'value',
    options: {
      [if byCode then std.toString(i + 1) else statuses[i].name]: {
        text: statuses[i].icon + ' ' + statuses[i].label,
        color: statuses[i].color,
        index: i,
      }
      for i in std.range(0, std.length(statuses) - 1)
    },
  },

  // Series named after a status, shown with its icon, label and colour.
  statusOverrides(names):: [
    {
      matcher: { id: 'byName', options: s.name },
      properties: [
        { id: 'displayName', value: s.icon + ' ' + s.label },
        { id: 'color', value: { mode: 'fixed', fixedColor: s.color } },
      ],
    }
    for s in statuses
    if std.member(names, s.name)
  ],

  row(title):: { type: 'row', title: title, collapsed: false, panels: [], w:: 24, h:: 1 },

  local panel(type, title, description, targets, w, h) = {
    type: type,
    title: title,
    description: description,
    datasource: datasource,
    targets: [targets[i] { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1)],
    w:: w,
    h:: h,
  },

  stat(title, description, targets, w=4, h=4, unit='short', links=[], fields='', text='auto', color='value'):: panel('stat', title, description, targets, w, h) {
    fieldConfig: {
      defaults: {
        unit: unit,
        mappings: [],
        links: links,
        color: { mode: 'thresholds' },
        thresholds: plainThresholds,
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: fields, values: false },
      colorMode: color,
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: text,
      wideLayout: true,
      showPercentChange: false,
    },
  },

  // A time series panel; bars for counts per interval, lines for rates.
  timeseries(title, description, targets, w=12, h=8, unit='short', bars=false, stacked=false, links=[], legendCalc=null):: panel('timeseries', title, description, targets, w, h) {
    fieldConfig: {
      defaults: {
        unit: unit,
        min: 0,
        custom: {
          drawStyle: if bars then 'bars' else 'line',
          fillOpacity: if bars then 60 else 10,
          lineWidth: 1,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: if stacked then 'normal' else 'none', group: 'A' },
        },
        links: links,
      },
      overrides: [],
    },
    options: {
      legend: {
        showLegend: true,
        displayMode: 'table',
        placement: 'right',
        calcs: [if legendCalc != null then legendCalc else if bars then 'sum' else 'max'],
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  } + (if bars then { interval: '1m' } else {}),

  table(title, description, targets, w=24, h=10):: panel('table', title, description, targets, w, h) {
    fieldConfig: {
      defaults: {
        custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false },
        mappings: [],
        links: [],
      },
      overrides: [],
    },
    options: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '' },
    },
  },

  // A field override: the field called `name` gets these properties.
  field(name, properties):: {
    matcher: { id: 'byName', options: name },
    properties: [{ id: id, value: properties[id] } for id in std.objectFields(properties)],
  },

  // Places panels on the 24-column grid in order and numbers them from 1.
  grid(panels)::
    local place(state, p) =
      local wraps = state.x + p.w > 24;
      local x = if wraps then 0 else state.x;
      local y = if wraps then state.y + state.rowHeight else state.y;
      {
        x: x + p.w,
        y: y,
        rowHeight: if wraps then p.h else std.max(state.rowHeight, p.h),
        placed: state.placed + [p { id: std.length(state.placed) + 1, gridPos: { h: p.h, w: p.w, x: x, y: y } }],
      };
    std.foldl(place, panels, { x: 0, y: 0, rowHeight: 0, placed: [] }).placed,

  variables(cfg, jobNames):: [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
      hide: 0,
      includeAll: false,
      multi: false,
      options: [],
      refresh: 1,
      regex: '',
      skipUrlSync: false,
    },
    self.queryVariable('job', 'Deployment', 'label_values(jobmon_build_info{%s}, job)' % cfg.jobmonSelector),
    self.queryVariable(
      'instance',
      'Instance',
      'label_values(jobmon_build_info{%s, job="$job"}, instance)' % cfg.jobmonSelector,
      multi=true,
    ),
    self.queryVariable(
      'job_name',
      'Job',
      'label_values(jobmon_job_info{%s, job="$job", instance=~"$instance"}, job_name)' % cfg.jobmonSelector,
      multi=jobNames == 'many',
    ),
    {
      name: 'console_url',
      label: 'Console',
      type: 'textbox',
      description: "Base URL of the jobmon web console (the exporter's address), without a trailing slash.",
      query: cfg.consoleURL,
      current: { selected: false, text: cfg.consoleURL, value: cfg.consoleURL },
      options: [{ selected: true, text: cfg.consoleURL, value: cfg.consoleURL }],
      hide: 2,
      skipUrlSync: false,
    },
  ],

  // A variable read from Prometheus; multi-valued ones offer All, sent as the regex .+.
  queryVariable(name, label, query, multi=false):: {
    name: name,
    label: label,
    type: 'query',
    datasource: datasource,
    definition: query,
    query: { qryType: 1, query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    current: {},
    hide: 0,
    multi: multi,
    includeAll: multi,
    options: [],
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
  } + (if multi then { allValue: '.+' } else {}),

  dashboard(cfg, uid, title, description, variables, links, panels, annotations=[]):: {
    uid: uid,
    title: title,
    description: description,
    tags: cfg.dashboardTags,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    liveNow: false,
    refresh: cfg.dashboardRefresh,
    schemaVersion: 39,
    time: { from: 'now-24h', to: 'now' },
    timepicker: {},
    timezone: cfg.dashboardTimezone,
    version: 1,
    weekStart: '',
    templating: { list: variables },
    links: links,
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ] + annotations,
    },
    panels: $.grid(panels),
  },
}
