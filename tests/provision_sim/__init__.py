"""Provisioning against the lab's own device CLI, in process (no SSH): the simulator's
:class:`~govnet.lab.shell.Shell` behind the session interface ``govnet.provision.operations``
uses, so properties over thousands of generated configurations run in seconds. The SSH
path itself is covered by tests/integration/test_provision_lab.py on the same shells."""
