"""`jaxlab.devices`: the devices JAX sees — every process's, which ones this process can
address, and their memory where the backend reports it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.table import data_frame
from jaxlab.core.kernelspec import CPU_DEVICES_ENV

NOT_REPORTED = "not reported"
NOT_ADDRESSABLE = "not addressable from this process"

MEMORY_KEYS = ("bytes_in_use", "bytes_limit", "peak_bytes_in_use")


@dataclass
class DeviceInfo:
    """One device as JAX describes it."""

    id: int
    platform: str
    kind: str
    process_index: int
    addressable: bool
    coords: tuple[int, ...] | None = None
    core_on_chip: int | None = None
    memory: dict[str, int] | None = None  # MEMORY_KEYS -> bytes, when reported
    memory_note: str = NOT_REPORTED  # why `memory` is None
    device: Any = None

    @property
    def bytes_in_use(self) -> int | None:
        return (self.memory or {}).get("bytes_in_use")

    @property
    def bytes_limit(self) -> int | None:
        return (self.memory or {}).get("bytes_limit")

    @property
    def peak_bytes_in_use(self) -> int | None:
        return (self.memory or {}).get("peak_bytes_in_use")


@dataclass(repr=False)
class DeviceReport(Displayed):
    """Every device of a backend, with the process layout and memory statistics."""

    devices: list[DeviceInfo]
    backend: str
    default_backend: str
    process_index: int
    process_count: int
    notes: list[str] = field(default_factory=list)

    @property
    def addressable(self) -> list[DeviceInfo]:
        """The devices this process can run on and read from."""
        return [d for d in self.devices if d.addressable]

    @property
    def processes(self) -> dict[int, list[int]]:
        """process index -> ids of its devices."""
        out: dict[int, list[int]] = {}
        for d in self.devices:
            out.setdefault(d.process_index, []).append(d.id)
        return dict(sorted(out.items()))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": d.id,
                "platform": d.platform,
                "kind": d.kind,
                "process": d.process_index,
                "addressable": d.addressable,
                "coords": d.coords,
                "bytes_in_use": d.bytes_in_use,
                "bytes_limit": d.bytes_limit,
                "peak_bytes_in_use": d.peak_bytes_in_use,
            }
            for d in self.devices
        ]

    def to_pandas(self) -> Any:
        """The devices as a ``pandas.DataFrame`` (one row per device)."""
        return data_frame(self.rows(), "DeviceReport")

    def __len__(self) -> int:
        return len(self.devices)


class BackendError(ValueError):
    """JAX has no backend of the name asked for."""


def devices(backend: str | None = None) -> DeviceReport:
    """The devices of `backend` (default: JAX's default backend) across all processes."""
    import jax

    default = jax.default_backend()
    backend = backend or default
    try:
        all_devices = jax.devices(backend)
    except RuntimeError:
        raise BackendError(
            f"JAX has no {backend!r} backend here; the default backend is {default!r}.\n"
            "  fix: leave out --backend to list the devices of the default backend."
        ) from None
    this = jax.process_index()
    infos = [_info(d, this) for d in all_devices]
    report = DeviceReport(
        devices=infos,
        backend=backend,
        default_backend=default,
        process_index=this,
        process_count=jax.process_count(),
    )
    report.notes.extend(_cpu_notes(report))
    return report


def _info(device: Any, this_process: int) -> DeviceInfo:
    process = int(getattr(device, "process_index", 0))
    addressable = process == this_process
    coords = getattr(device, "coords", None)
    info = DeviceInfo(
        id=int(device.id),
        platform=str(device.platform),
        kind=str(getattr(device, "device_kind", device.platform)),
        process_index=process,
        addressable=addressable,
        coords=tuple(int(c) for c in coords) if coords is not None else None,
        core_on_chip=getattr(device, "core_on_chip", None),
        device=device,
    )
    if not addressable:
        info.memory_note = NOT_ADDRESSABLE
        return info
    try:
        stats = device.memory_stats()
    except Exception:
        stats = None
    if stats:
        memory = {k: int(stats[k]) for k in MEMORY_KEYS if k in stats}
        info.memory = memory or None
    return info


def _cpu_notes(report: DeviceReport) -> list[str]:
    """Say where a CPU device count comes from, and when the kernel's request was missed."""
    if report.backend != "cpu":
        return []
    notes = []
    local = len(report.addressable)
    if local > 1:
        notes.append(f"{local} simulated CPU devices in this process (one host CPU shared by all)")
    wanted = os.environ.get(CPU_DEVICES_ENV)
    if wanted and wanted.isdigit() and int(wanted) != local:
        notes.append(
            f"the kernel asked for {wanted} CPU devices ({CPU_DEVICES_ENV}) but JAX started "
            f"with {local}: JAX was initialised before jaxlab could set the count. Restart "
            "the kernel and load jaxlab before running JAX code."
        )
    return notes
