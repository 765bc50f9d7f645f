"""SNMP monitoring of the machine room: poller, samples, device states, alerts, /metrics.

==============  ==========================================================================
counters.py     counter and uptime arithmetic (wraps and resets are gaps, never spikes)
metrics.py      the metrics produced: names, units, zh/en labels, series or latest only
metricsets.py   what to read per role (system, interfaces, host, ups, sensors) and decoders
config.py       intervals by role, timeouts, state timings, retention; durations
states.py       up → unreachable → down with backoff
poller.py       the scheduler: bounded concurrency, an outer timeout per poll, self-metrics
topology.py     uplinks (inventory links) and power feeds (vars.power_feed) for suppression
rules.py        playbooks/alerts.yaml: threshold and state rules, notifiers, flap settings
alerts.py       the SNMP rules engine: which conditions hold after each poll
notify.py       log, syslog, webhook and command notifiers
exporter.py     Prometheus /metrics
daemon.py       the daemon: writer thread, signals, reload, maintenance, the lock
extension.py    what the daemon runs beside the poller (the service checks): context, hooks
problems.py     one problem lifecycle: open, suppressed, flapping, resolved, told once
==============  ==========================================================================

The store side is :mod:`govnet.store.monitor`; the terminal view is :mod:`govnet.dashboard`.
"""
