"""Distributed audits and backups on Celery (issue 17 item 2).

``govnet worker [--zone Z …]`` runs a Celery worker that consumes one queue per zone
(``govnet.zone.internal`` …); ``govnet audit --distributed`` / ``govnet backup --distributed``
split the selected devices into batches, route each batch to its zone's queue and wait for
the results in the govnet store (not Celery's result backend). Only the collection (the SSH
session per device, :func:`govnet.collect.fetch.fetch_one`) runs on the workers: the
submitter evaluates the playbooks and records the run exactly as a local run does, so the
run is one run with one report, identical to a local one on the same devices.

Reliability: tasks are acknowledged late and rejected when their worker is lost, so a killed
worker's batch goes back to the queue (Redis: after the visibility timeout); the store keys
results by (run, device), so a batch delivered twice never counts a device twice; tasks live
in Redis (persist it: ``appendonly yes``) and the worker and submitter reconnect after a
broker outage.

It sits just below the CLI (beside report and dashboard): it uses collect and store, and
the CLI wires it into the audit and backup commands through ``CollectOptions.remote``.
"""
