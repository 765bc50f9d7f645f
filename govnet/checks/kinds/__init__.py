"""Built-in check kinds; each module registers itself with :mod:`govnet.checks.registry`."""
