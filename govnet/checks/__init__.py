"""Compliance checks: controls, playbooks of rules, check kinds, and the engine.

The flow, in calls::

    playbooks = load_playbooks([Path("playbooks/mlps2-baseline.yaml")])   # PlaybookError (exit 2)
    commands = required_commands(devices, playbooks)   # device name → command lines to run
    facts = {name: DeviceFacts(name, config=..., outputs={cmd: text}, error=None)}
    findings = evaluate(devices, facts, playbooks)     # one Finding per device × rule
    run = Run(run_id, started, finished, [p.name for p in playbooks], findings)
    code = exit_code(findings, Severity.HIGH)          # 0 clean, 1 failures, 3 unreadable devices

Modules: :mod:`~govnet.checks.playbook` (rules and their strict loader),
:mod:`~govnet.checks.registry` (check kinds by name), :mod:`~govnet.checks.kinds` (``config``,
``command``, …), :mod:`~govnet.checks.engine` and :mod:`~govnet.checks.model` (what reporters
render). The control ids, the result vocabulary and the section parser behind the ``config``
kind are in :mod:`govnet.core`.
"""
