"""A device's collection result as JSON (the store's ``dist_results.payload``) and back, so
the submitter sees exactly what a local collection would have returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from govnet.collect.fetch import Collected
from govnet.collect.fleet import DeviceResult
from govnet.errors import GovnetError, TransportError
from govnet.transport.ssh import SshOptions


def encode(res: DeviceResult[Collected]) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": res.ok, "elapsed": res.elapsed}
    if res.ok and res.result is not None:
        got = res.result
        out.update(config=got.config, outputs=got.outputs)
        out["collected_at"] = got.collected_at.isoformat()
        return out
    err = res.error
    if isinstance(err, TransportError):
        out.update(transport=True, host=err.host, message=err.message, kind=err.kind)
    else:
        out.update(transport=False, text=str(err), kind=res.error_kind)
    return out


def decode(device: str, payload: dict[str, Any]) -> DeviceResult[Collected]:
    elapsed = float(payload.get("elapsed", 0.0))
    if payload.get("ok"):
        got = Collected(
            payload.get("config"),
            dict(payload.get("outputs") or {}),
            datetime.fromisoformat(payload["collected_at"]),
        )
        return DeviceResult(device, got, None, elapsed)
    error: GovnetError
    if payload.get("transport"):
        error = TransportError(payload["host"], payload["message"])
        error.kind = payload.get("kind") or TransportError.kind
    else:
        error = GovnetError(payload.get("text", "unknown error on the worker"))
    return DeviceResult(device, None, error, elapsed)


def ssh_to_dict(ssh: SshOptions) -> dict[str, Any]:
    return {
        "timeout": ssh.timeout,
        "read_timeout": ssh.read_timeout,
        "retries": ssh.retries,
        "retry_delay": ssh.retry_delay,
    }


def ssh_from_dict(data: dict[str, Any]) -> SshOptions:
    return SshOptions(
        timeout=data.get("timeout"),
        read_timeout=float(data.get("read_timeout", 30.0)),
        retries=int(data.get("retries", 1)),
        retry_delay=float(data.get("retry_delay", 0.5)),
    )
