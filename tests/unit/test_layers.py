"""The import layers (.importlinter) hold, and the contract really rejects an upward import.

CI runs ``make test`` only, so the contract that ``make lint`` checks is enforced here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layer_contract_is_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def copy_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "govnet", tmp_path / "govnet", ignore=shutil.ignore_patterns("data"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    with (root / "govnet/core/ids.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _late() -> None:\n    from govnet.checks import model  # noqa: F401\n")
    done = lint_imports(root)
    assert done.returncode == 1
    assert "govnet.core is not allowed to import govnet.checks" in done.stdout
    assert "govnet.core.ids -> govnet.checks.model" in done.stdout


def test_domain_packages_stay_independent(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    with (root / "govnet/provision/rules.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom govnet.isolation import static  # noqa: E402, F401\n")
    done = lint_imports(root)
    assert done.returncode == 1
    assert "govnet.provision is not allowed to import govnet.isolation" in done.stdout


def test_a_new_package_needs_a_layer(tmp_path: Path) -> None:
    root = copy_package(tmp_path)
    (root / "govnet/newthing.py").write_text('"""Not placed in any layer yet."""\n')
    done = lint_imports(root)
    assert done.returncode == 1
    assert "govnet.newthing" in done.stdout
