"""The neutral core every govnet package may import, and that imports none of them.

==============  ==========================================================================
vocabulary.py   Severity, Status, Text (zh/en), Evidence: the words results are told in
controls.py     the compliance control catalogue (data/controls.yaml): id → labels, clause
configtext.py   a running configuration read into sections for fast regex checks
ids.py          run ids (audit, backup, probe, provision)
==============  ==========================================================================

The top-level helper modules (errors, durations, validation, limits, settings, i18n, textsafe,
secrets, logs, yamlsrc, platforms, locks, …) belong to the same bottom layer; the import
contract (``.importlinter``, checked by ``lint-imports``) says which layer may import which.
"""
