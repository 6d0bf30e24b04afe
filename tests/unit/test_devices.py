"""Network jobs spread over the GPUs of a machine, slot by slot."""

import os
import platform
import subprocess
import sys

import pytest

from innerloop import devices


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    yield
    devices.release_all()


def test_jobs_take_every_gpu_once_before_any_gpu_twice(tmp_path):
    claimed = [devices.claim_gpu(["0", "1", "2"], tmp_path) for _ in range(7)]
    assert claimed == [("0", 0), ("1", 0), ("2", 0), ("0", 1), ("1", 1), ("2", 1), ("0", 2)]
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"


def test_a_finished_jobs_slot_is_taken_again(tmp_path):
    devices.claim_gpu(["0", "1"], tmp_path)
    devices.claim_gpu(["0", "1"], tmp_path)
    os.close(devices._held.pop(0))  # the job on GPU 0 ends
    assert devices.claim_gpu(["0", "1"], tmp_path) == ("0", 0)


def test_one_gpu_or_none_leaves_the_device_alone(tmp_path):
    assert devices.claim_gpu(["0"], tmp_path) is None
    assert devices.claim_gpu([], tmp_path) is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert devices.visible_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert devices.visible_gpus() == []


@pytest.mark.parametrize("resources, device, visible", [
    ({"gpu": 1}, "auto", "0"),      # a network job on a GPU: takes the first free GPU
    ({"gpu": 1}, "cuda:1", "0,1"),  # a device the config names: left as it is
    ({}, "auto", "0,1"),            # a job that asked for no GPU
])
def test_a_job_that_asks_for_a_gpu_takes_one(tmp_path, monkeypatch, resources, device, visible):
    import sys
    import types
    from pathlib import Path

    from innerloop.code_version import open_job_log

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(devices, "SLOT_DIR", tmp_path / "slots")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "/x/tmpab12.train.py", raising=False)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    job = types.SimpleNamespace(scriptdir=str(root / "workflow_scripts"), rule="train", output=["results/m.pt"],
                                log=[str(tmp_path / "train.log")], resources=resources, params={"device": device})
    open_job_log(job).close()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == visible
    assert ("gpu: CUDA device 0 (slot 0)" in (tmp_path / "train.log").read_text()) == (visible == "0")


def test_without_a_gpu_driver_cuda_is_ruled_out_without_torch(monkeypatch, tmp_path):
    monkeypatch.setattr(devices.sys, "platform", "linux")
    monkeypatch.setattr(devices, "GPU_DRIVER_PATHS", (str(tmp_path / "nvidia"), str(tmp_path / "kfd")))
    assert not devices.may_have_cuda()
    (tmp_path / "kfd").touch()
    assert devices.may_have_cuda()
    monkeypatch.setattr(devices.sys, "platform", "win32")  # no /proc to read: torch must decide
    assert devices.may_have_cuda()


def test_where_cuda_is_ruled_out_torch_sees_none():
    import torch

    assert devices.may_have_cuda() or not torch.cuda.is_available()



FAULTS_OF_A_REUSED_BLOCK = """
import ctypes, resource, sys
from innerloop import devices
kept = devices.keep_freed_memory() if sys.argv[1] == "keep" else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 64 * 2**20
block = libc.malloc(size); ctypes.memset(block, 1, size); libc.free(block)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = libc.malloc(size); ctypes.memset(block, 1, size); libc.free(block)
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc's allocator on Linux")
def test_keep_freed_memory_reuses_a_freed_block_without_faulting_it_in_again():
    def run(mode):
        out = subprocess.run([sys.executable, "-c", FAULTS_OF_A_REUSED_BLOCK, mode], capture_output=True, text=True,
                             check=True).stdout.split()
        return out[0], int(out[1])

    pages = 64 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    kept, faults = run("keep")
    _, default_faults = run("default")
    assert kept == "True"
    assert default_faults > pages // 2  # glibc maps a 64 MiB block afresh: every page faults again
    assert faults < pages // 100


def test_keep_freed_memory_declines_off_glibc(monkeypatch):
    monkeypatch.setattr(devices.sys, "platform", "darwin")
    assert devices.keep_freed_memory() is False
