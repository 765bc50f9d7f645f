"""The lab's web services: which services it serves, the down/up switch, 200 and 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from govnet.errors import LabError
from govnet.inventory import load_inventory
from govnet.lab.http import HttpLab, HttpSpec, http_specs, is_down, set_down
from tests.conftest import LAB_INVENTORY
from tests.ports import reserve_port


def test_the_lab_serves_its_loopback_http_services(tmp_path: Path) -> None:
    inv = load_inventory(LAB_INVENTORY)
    specs = {s.service: (s.host, s.title) for s in http_specs(inv)}
    assert specs == {"oa": ("127.0.0.1", "协同办公系统"), "portal": ("127.0.0.1", "门户网站")}
    assert set_down(inv, tmp_path, "portal", True) and is_down(tmp_path, "portal")
    assert not set_down(inv, tmp_path, "portal", True)  # already down
    assert set_down(inv, tmp_path, "portal", False) and not is_down(tmp_path, "portal")
    with pytest.raises(LabError, match=r"'nope' is not served by the lab \(lab services: oa"):
        set_down(inv, tmp_path, "nope", True)


def test_answers_200_then_503_while_down(tmp_path: Path) -> None:
    port = reserve_port()

    async def scenario() -> list[tuple[int, str]]:
        web = HttpLab([HttpSpec("portal", "127.0.0.1", port, "门户网站")], tmp_path)
        await web.start()
        seen = []
        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                for down in (False, True, False):
                    switch = tmp_path / "services" / "portal.down"
                    if down:
                        switch.parent.mkdir(exist_ok=True)
                        switch.write_text("down\n")
                    else:
                        switch.unlink(missing_ok=True)
                    r = await client.get(f"http://127.0.0.1:{port}/")
                    seen.append((r.status_code, r.text))
        finally:
            await web.stop()
        return seen

    seen = asyncio.run(scenario())
    assert [code for code, _ in seen] == [200, 503, 200]
    assert "欢迎访问门户网站" in seen[0][1] and "维护中" in seen[1][1]
