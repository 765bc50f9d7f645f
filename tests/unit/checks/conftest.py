"""Fixtures for the checks tests."""

from __future__ import annotations

import pytest

from govnet.checks.playbook import Playbook, load_playbooks
from tests.unit.checks.support import BASELINE


@pytest.fixture(scope="session")
def baseline() -> list[Playbook]:
    return load_playbooks(BASELINE)
