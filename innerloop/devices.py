"""Which GPU a network job of the workflow computes on, when the machine has several.

Snakemake counts the ``gpu`` resource (``--resources gpu=N``: at most N network jobs at
once) but assigns no device ids, so every job would land on ``cuda:0``. Each job therefore
claims a slot: a lock file per (GPU, slot), taken with ``flock`` in the order slot 0 of
every GPU, then slot 1 of every GPU, and so on, so that jobs spread evenly over the
GPUs. The lock is held until the job's process ends (the kernel releases it even after a
crash), and the job sees only its GPU (``CUDA_VISIBLE_DEVICES``), as ``cuda``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: Lock files of the GPU slots of every workflow run by this user on this machine.
SLOT_DIR = Path(tempfile.gettempdir()) / f"innerloop-gpu-slots-{os.getuid()}"
MAX_SLOTS = 1024
_held: list[int] = []  # descriptors of the slots this process holds (open until it ends)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries (without importing CUDA)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and not d.strip().startswith("-")]
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return [str(i) for i in range(len(list(proc.iterdir())))]
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(line for line in listing.splitlines() if line.startswith("GPU "))]


#: Where a GPU driver that torch can use shows itself on Linux: NVIDIA's (/proc, device nodes),
#: AMD's ROCm (/dev/kfd, which torch's ROCm build reports as CUDA) and WSL's GPU (/dev/dxg).
GPU_DRIVER_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def may_have_cuda() -> bool:
    """Whether ``torch.cuda.is_available()`` could be True here, decided without importing
    torch (about 1.5 s, which every Snakemake start would pay): False on Linux without any of
    :data:`GPU_DRIVER_PATHS` and on macOS (no CUDA), True wherever else it cannot tell."""
    if sys.platform.startswith("linux"):
        return any(os.path.exists(path) for path in GPU_DRIVER_PATHS)
    return sys.platform != "darwin"


def claim_gpu(gpus: list[str] | None = None, slot_dir: Path | None = None) -> tuple[str, int] | None:
    """Claim the first free (GPU, slot), slot by slot over ``gpus``; make it the only visible
    GPU and return (gpu, slot), or None with fewer than two GPUs (nothing to choose)."""
    gpus = visible_gpus() if gpus is None else gpus
    if len(gpus) < 2:
        return None
    slot_dir = SLOT_DIR if slot_dir is None else slot_dir
    slot_dir.mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        for gpu in gpus:
            fd = os.open(slot_dir / f"gpu{gpu}-slot{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _held.append(fd)
            os.environ["CUDA_VISIBLE_DEVICES"] = gpu
            return gpu, slot
    raise RuntimeError(f"all {MAX_SLOTS} slots of GPUs {', '.join(gpus)} in {slot_dir} are taken")


def release_all() -> None:
    """Give back every slot this process holds (a finished job's process does so by ending)."""
    while _held:
        os.close(_held.pop())


#: glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_keeping_freed_memory = False


def keep_freed_memory() -> bool:
    """Let this process reuse the memory of freed tensors instead of returning it to the
    system: glibc's ``malloc`` then serves every allocation from its heap (no ``mmap`` per
    large block) and never trims it. Returns whether the setting took (False off glibc).

    By default glibc maps each block above its threshold (at most 32 MiB) afresh and unmaps
    it when freed, so every large activation of a step costs page faults on its first
    touch; a Conv4 step at 84x84 allocates hundreds of MiB that way. The process's
    resident memory then stays at its peak until it ends. ``benchmarks/peers.py`` measures
    the step with and without it; every job of the workflow that runs torch calls it
    (:meth:`innerloop.job.Job.threads`), and the batched inner loop takes large images on
    the CPU only where it took (``MetaLearner.batches``).
    """
    import ctypes
    import platform

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    global _keeping_freed_memory
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallopt"):
        return False
    _keeping_freed_memory = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    return _keeping_freed_memory


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` took in this process."""
    return _keeping_freed_memory
