"""Service checks and availability: the portal, OA, document exchange, DNS…

==============  ==========================================================================
checkers.py     http (status, text, response time, TLS certificate days), tcp, dns, icmp
runner.py       the scheduler: own intervals, bounded concurrency, timeouts, up → down states
alerts.py       service-down, service-slow (for-duration), service-cert-expiring; suppressed
                when the host device or its uplink is already down
extension.py    the glue govnetd runs beside its SNMP poller (samples, spans, alerts)
sla.py          availability % and outages from recorded spans, maintenance excluded, gaps
                reported as unknown
==============  ==========================================================================

Tables are in :mod:`govnet.store.availability`; the report in :mod:`govnet.report.availability`.
"""
