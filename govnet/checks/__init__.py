"""Compliance checks: controls, playbooks of rules, check kinds, and the engine.

A collector asks :func:`govnet.checks.engine.required_commands` what to fetch, fills one
:class:`~govnet.checks.engine.DeviceFacts` per device, and calls
:func:`govnet.checks.engine.evaluate`; reporters render the resulting
:class:`~govnet.checks.model.Finding` list (or a :class:`~govnet.checks.model.Run`).
"""
