"""`jiuye bench --http`: matches over HTTP against a Flask hello-world served the same way, same run.

On the configured, already seeded database: serve jiuye with `jiuye serve --workers N` (gunicorn)
and a one-route Flask app with the very same gunicorn settings, both on 127.0.0.1 only; drive each
with wrk (``/usr/bin/wrk``) at each connection count, `GET /api/v1/laborers/{id}/matches` cycling
over random seeking laborers with an office's bearer token (issued for the run, revoked after).
Prints requests/s, p99, and the endpoint's share of hello-world's requests/s.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from .extensions import db
from .models import Laborer, Role, User
from .services.accounts import issue_token, revoke_token

HOST = "127.0.0.1"
HELLO_APP = """
from flask import Flask
app = Flask("hello")

@app.get("/")
def hello():
    return "Hello, World!"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_until_up(port: int, process: subprocess.Popen, timeout_s: float = 600) -> None:
    """Block until something listens on the port (jiuye warms its rankers first: minutes at province scale)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout_s} s")


def _found(pattern: str, out: str) -> re.Match[str]:
    """The first match of a figure wrk always prints."""
    match = re.search(pattern, out)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{out}")
    return match


def _wrk(url: str, connections: int, seconds: int, script: Path | None) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(_found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _found(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    factor = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * factor, "non_2xx": int(errors.group(1)) if errors else 0}


def _process_tree() -> dict[int, list[int]]:
    """Children of each process (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    return children


def worker_rss_mib(pid: int) -> list[float]:
    """Resident memory (MiB) of each worker of the server started as ``pid``: the processes below it that
    have no children of their own (gunicorn's workers; the process itself when it serves alone)."""
    children = _process_tree()
    below, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        below += kids
        todo += kids
    rss = []
    for worker in [p for p in below if p not in children] or [pid]:
        try:
            status = Path(f"/proc/{worker}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if found:
            rss.append(int(found.group(1)) / 1024)
    return rss


def _lua(path: Path, token: str, laborer_ids: list[int]) -> None:
    ids = ",".join(str(i) for i in laborer_ids)
    path.write_text(
        f"local ids = {{{ids}}}\nlocal i = 0\n"
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "request = function()\n  i = i % #ids + 1\n"
        '  return wrk.format("GET", "/api/v1/laborers/" .. ids[i] .. "/matches")\nend\n'
    )


def run_http_bench(
    workers: int, threads: int, connections: tuple[int, ...], seconds: int, samples: int, random_seed: int
) -> list[dict]:
    """Rows: for each connection count, the endpoint's and hello-world's requests/s and p99."""
    session = db.session()
    office = session.scalars(
        select(User).where(User.role == Role.OFFICE, User.is_enabled).order_by(func.length(User.region_code), User.id)
    ).first()
    if office is None:
        raise RuntimeError("no office user to ask as: seed the database first")
    seeking = session.scalars(select(Laborer.id).where(Laborer.status == "seeking")).all()
    rng = np.random.default_rng(random_seed)
    laborer_ids = rng.choice(np.array(seeking), min(samples, len(seeking)), replace=False).tolist()
    token, _ = issue_token(session, office, 3600)
    session.commit()
    env = {**os.environ, "DATABASE_URL": str(db.engine.url.render_as_string(hide_password=False))}
    rows, servers = [], []
    try:
        with tempfile.TemporaryDirectory() as scratch_dir:
            scratch = Path(scratch_dir)
            (scratch / "hello.py").write_text(HELLO_APP)
            lua = scratch / "matches.lua"
            _lua(lua, token, laborer_ids)
            jiuye_port, hello_port = _free_port(), _free_port()
            jiuye = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from web.cli import main; main()",
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(jiuye_port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append(jiuye)
            hello = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"{HOST}:{hello_port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--chdir",
                    str(scratch),
                    "hello:app",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append(hello)
            _wait_until_up(jiuye_port, jiuye)
            _wait_until_up(hello_port, hello)
            for c in connections:
                _wrk(f"http://{HOST}:{jiuye_port}", c, 3, lua)  # warm each worker's connections
                endpoint = _wrk(f"http://{HOST}:{jiuye_port}", c, seconds, lua)
                rss = worker_rss_mib(jiuye.pid)  # after the run: the rankers built, every worker warm
                baseline = _wrk(f"http://{HOST}:{hello_port}/", c, seconds, None)
                rows.append(
                    {
                        "connections": c,
                        "matches_rps": endpoint["rps"],
                        "matches_p99_ms": endpoint["p99_ms"],
                        "matches_non_2xx": endpoint["non_2xx"],
                        "hello_rps": baseline["rps"],
                        "hello_p99_ms": baseline["p99_ms"],
                        "ratio": endpoint["rps"] / baseline["rps"],
                        "worker_rss_mib": max(rss, default=float("nan")),
                        "workers_seen": len(rss),
                    }
                )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
        revoke_token(session, token)
        session.commit()
    for row in rows:
        row.update(database=db.engine.dialect.name, workers=workers, threads=threads)
    return rows


def http_table(rows: list[dict]) -> list[str]:
    """The --http rows as Markdown lines."""
    lines = [
        "| database | workers×threads | connections | matches req/s | p99 ms | non-2xx | hello-world req/s "
        "| p99 ms | ratio | RSS per jiuye worker (largest) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['database']} | {r['workers']}×{r['threads']} | {r['connections']} | {r['matches_rps']:,.0f} "
            f"| {r['matches_p99_ms']:.1f} | {r['matches_non_2xx']} | {r['hello_rps']:,.0f} | {r['hello_p99_ms']:.1f} "
            f"| {r['ratio']:.0%} | {r['worker_rss_mib']:,.0f} MiB ({r['workers_seen']} seen) |"
        )
    return lines
