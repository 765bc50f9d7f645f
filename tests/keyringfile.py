"""A keyring backend for tests: a JSON file named by ``GOVNET_TEST_KEYRING`` (a real
``keyring.backend.KeyringBackend``, so ``keyring:`` references go through the keyring library's
own API: ``set_keyring`` in-process, ``PYTHON_KEYRING_BACKEND=tests.keyringfile.JsonKeyring`` in
a subprocess). ``locked`` in the file makes every read raise ``KeyringLocked``; ``hang`` makes
it sleep (a keyring waiting for an unlock dialog)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class JsonKeyring(KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ["GOVNET_TEST_KEYRING"])

    def _load(self) -> dict[str, dict[str, str]]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        data = self._load()
        if data.get("locked"):
            raise KeyringLocked("the test keyring is locked")
        if data.get("hang"):
            time.sleep(30)
        return data.get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"{service}/{username} not set")
        del data[service][username]
        self.path.write_text(json.dumps(data))
