"""The HTTP benchmark's memory figure: the resident memory of each worker below a server process."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from web.bench_http import worker_rss_mib

CHILD = "import time; held = bytearray(80 * 2**20); held[::4096] = b'x' * len(held[::4096]); time.sleep(30)"
PARENT = (
    "import subprocess, sys, time; "
    f"[subprocess.Popen([sys.executable, '-c', {CHILD!r}]) for _ in range(2)]; time.sleep(30)"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_rss_reads_each_worker_below_the_master():
    master = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        for _ in range(100):  # until both workers hold their 80 MiB
            rss = worker_rss_mib(master.pid)
            if len(rss) == 2 and min(rss) >= 80:
                break
            time.sleep(0.1)
        assert len(rss) == 2  # the two workers, not the master
        assert all(80 <= mib < 200 for mib in rss)
    finally:
        subprocess.run(["pkill", "-P", str(master.pid)], check=False)
        master.kill()
        master.wait()
