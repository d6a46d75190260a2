"""Benchmark: petition intake over HTTP — POST /api/v1/petitions/ against a bare one-row insert.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.intake

Takes the PostgreSQL server from DATABASE_URL (SQLite is refused) and works in a database of its own,
``wangge_bench_intake``: dropped, created, migrated and seeded with the small demo district at the
start, dropped at the end (``--keep-db`` keeps it). REDIS_URL, when set, is the cache the write
throttle counts in, as in production.

Serves the site with gunicorn, 4 sync workers, on a free port of 127.0.0.1 only, with the production
settings except the URLconf (``bench.intake_settings``: the whole site plus ``/bench/baseline/``, a
bare Django view that parses the JSON and inserts one petition row with the ORM). The write throttle
stays on but its rate is raised (``WANGGE_WRITE_RATE``) so that it counts without refusing; axes is
not involved (the load is token-authenticated; the token is made directly).

The load comes from ``wrk`` on the same machine (installed with ``apt-get install -y wrk`` when
missing and running as root), with a Lua script for the POST body and headers; every intake request
carries its own ``Idempotency-Key``, as a hotline's retry-safe client would (``--no-key``: without).
For each endpoint: the saturating rate (closed loop at 4, 8, 16 and 32 connections, the best
throughput), then a paced run at 70 % of it (wrk's per-connection delay, calibrated), with
requests/s, p50 and p99. Targets: intake/baseline saturating throughput ≥ 0.6; intake p99 ≤ 100 ms
at 70 %. Any non-2xx answer aborts. Bounded: the whole run stops itself (``--max-minutes``) and the
server processes are stopped on every way out.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.common import bench_database_url, drop_database, print_rows, ratio_line, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "wangge_bench_intake"
WORKERS = 4
CONNECTION_STEPS = (4, 8, 16, 32)
PACED_SHARE = 0.70
TARGET_RATIO = 0.6
TARGET_P99_MS = 100.0
INTAKE = "/api/v1/petitions/"
BASELINE = "/bench/baseline/"

LUA = r"""
-- args: path, token ("" for none), body, mean delay in ms (0: none), keyed ("1"/"0"), run id
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  path, token, body, delay_ms, keyed, run = args[1], args[2], args[3], tonumber(args[4]), args[5] == "1", args[6]
  n = 0
  math.randomseed(os.time() + tid * 7919)
  base = {["Content-Type"] = "application/json"}
  if token ~= "" then base["Authorization"] = "Token " .. token end
end

function request()
  n = n + 1
  local headers = base
  if keyed then
    headers = {}
    for k, v in pairs(base) do headers[k] = v end
    headers["Idempotency-Key"] = run .. "-" .. tid .. "-" .. n
  end
  return wrk.format("POST", path, headers, body)
end
%(delay)s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "non2xx": %%d, "socket_errors": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""
# Jittered think time (uniform 0.5–1.5 × the mean) so the connections do not march in step.
LUA_DELAY = """
function delay()
  return math.floor(delay_ms * (0.5 + math.random()))
end
"""


@dataclass
class Run:
    connections: int
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("This benchmark drives the load with wrk: apt-get install -y wrk (as root), then run it again.")
    print("  wrk not found: apt-get install -y wrk", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL, check=True)
    return shutil.which("wrk") or sys.exit("wrk did not install")


def prepare(url: str) -> tuple[str, dict[str, str]]:
    """Migrate and seed the bench database; return a worker's API token and a petition body."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from governance.access import restrict
    from governance.demo.seed import seed_demo
    from governance.models import User
    from grids.models import Grid

    call_command("migrate", verbosity=0)
    seed_demo(password=uuid.uuid4().hex, size="small", log=lambda _message: None)
    worker = User.objects.get(username="worker")
    token, _created = Token.objects.get_or_create(user=worker)
    grid = restrict(worker, Grid.objects.order_by("code")).first()
    assert grid is not None, "the demo worker has a grid"
    body = {
        "grid": grid.code,
        "category": "roof-leak",
        "title": "楼道顶棚漏水",
        "description": "3栋2单元顶楼楼道顶棚漏水，雨天更严重，住户要求尽快维修。",
        "priority": "normal",
        "reporter_name": "王秀英",
        "reporter_phone": "13812345678",
    }
    connections.close_all()
    return token.key, body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
        "WANGGE_BENCH": "1",
        # The throttle runs (and costs what it costs) but never refuses during the bench.
        "WANGGE_WRITE_RATE": "1000000000/min",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "governance.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(WORKERS),
            "--worker-class", "sync",
            "--backlog", "2048",
            "--log-level", "error",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    sys.exit("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()  # the master stops its workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


class Load:
    def __init__(self, wrk: str, port: int, token: str, body: dict[str, str], keyed: bool) -> None:
        self.wrk, self.port, self.token, self.body, self.keyed = wrk, port, token, json.dumps(body), keyed
        self.run_id = uuid.uuid4().hex[:12]
        self.dir = Path(tempfile.mkdtemp(prefix="wangge-bench-intake-"))
        (self.dir / "closed.lua").write_text(LUA % {"delay": ""})
        (self.dir / "paced.lua").write_text(LUA % {"delay": LUA_DELAY})

    def run(self, path: str, connections: int, seconds: int, delay_ms: float = 0) -> Run:
        script = self.dir / ("paced.lua" if delay_ms > 0 else "closed.lua")
        token = self.token if path == INTAKE else ""
        keyed = "1" if (self.keyed and path == INTAKE) else "0"
        command = [
            self.wrk,
            "--threads", str(min(2, connections)),
            "--connections", str(connections),
            "--duration", f"{seconds}s",
            "--timeout", "5s",
            "--script", str(script),
            f"http://127.0.0.1:{self.port}",
            "--", path, token, self.body, f"{delay_ms:.3f}", keyed, f"{self.run_id}-{time.monotonic_ns()}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        result = json.loads(lines[-1].removeprefix("RESULT "))
        if result["non2xx"] or result["socket_errors"]:
            sys.exit(
                f"{path}: {result['non2xx']} non-2xx answers and {result['socket_errors']} socket errors "
                f"out of {result['requests']} (connections={connections}): the figures would mean nothing"
            )
        return Run(
            connections=connections,
            seconds=result["duration_us"] / 1e6,
            requests=result["requests"],
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
        )

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def saturate(load: Load, paths: dict[str, str], seconds: int) -> dict[str, Run]:
    """The best closed-loop throughput over growing concurrency: each endpoint's saturating rate.

    The endpoints take turns at each step, so a change in the machine's other load affects both.
    """
    best: dict[str, Run] = {}
    for connections in CONNECTION_STEPS:
        for label, path in paths.items():
            run = load.run(path, connections, seconds)
            print(
                f"    {label:<8} {connections:>3} connections: {run.rps:8.1f} req/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms",
                flush=True,
            )
            if label not in best or run.rps > best[label].rps:
                best[label] = run
    return best


def paced(load: Load, path: str, target_rps: float, connections: int, seconds: int) -> Run:
    """A run at ``target_rps``: think time per connection, calibrated on two short runs."""
    interval_ms = 1000 * connections / target_rps
    delay_ms = interval_ms * 0.8
    for _ in range(3):
        probe = load.run(path, connections, 4, delay_ms)
        # rate = connections / (latency + delay): move the delay by the gap in per-request time.
        delay_ms = max(0.5, delay_ms + interval_ms - 1000 * connections / probe.rps)
        if abs(probe.rps - target_rps) / target_rps < 0.03:
            break
    return load.run(path, connections, seconds, delay_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each measured run at 70 %%")
    parser.add_argument("--step-seconds", type=int, default=5, help="length of each saturation step")
    parser.add_argument("--no-key", action="store_true", help="intake requests without an Idempotency-Key")
    parser.add_argument("--keep-db", action="store_true", help="keep wangge_bench_intake afterwards")
    parser.add_argument("--max-minutes", type=float, default=15, help="stop everything after this long")
    args = parser.parse_args()

    url = bench_database_url(DB_NAME, purpose="row locks and concurrent writers, as in production")
    wrk = ensure_wrk()
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("--max-minutes reached")))
    signal.alarm(int(args.max_minutes * 60))

    print(f"intake benchmark: database {DB_NAME}, gunicorn {WORKERS} sync workers, wrk on 127.0.0.1")
    print(f"  cache for the throttle: {os.environ.get('REDIS_URL') or 'file cache (REDIS_URL not set)'}")
    recreate_database(url)
    server = None
    load = None
    try:
        token, body = prepare(url)
        port = free_port()
        server = start_server(url, port)
        load = Load(wrk, port, token, body, keyed=not args.no_key)
        print(f"  server on 127.0.0.1:{port}; intake {'with' if load.keyed else 'without'} Idempotency-Key")
        for path in (INTAKE, BASELINE):  # warm both: imports, connections, caches
            load.run(path, 4, 3)

        paths = {"intake": INTAKE, "baseline": BASELINE}
        print(f"  saturating rate (closed loop, {args.step_seconds} s per step): intake {INTAKE}, baseline {BASELINE}")
        saturated = saturate(load, paths, args.step_seconds)
        at_70: dict[str, Run] = {}
        for label, path in paths.items():
            target = PACED_SHARE * saturated[label].rps
            print(f"  {label}: paced at 70 % = {target:.0f} req/s for {args.seconds} s", flush=True)
            at_70[label] = paced(load, path, target, saturated[label].connections, args.seconds)

        intake_sat, intake_70 = saturated["intake"], at_70["intake"]
        base_sat, base_70 = saturated["baseline"], at_70["baseline"]
        print()
        print_rows(
            [
                ("intake saturating", f"{intake_sat.rps:.0f} req/s ({intake_sat.connections} connections)"),
                ("intake at 70 %", f"{intake_70.rps:.0f} req/s  p50 {intake_70.p50_ms:.1f} ms  "
                 f"p99 {intake_70.p99_ms:.1f} ms"),
                ("baseline saturating", f"{base_sat.rps:.0f} req/s ({base_sat.connections} connections)"),
                ("baseline at 70 %", f"{base_70.rps:.0f} req/s  p50 {base_70.p50_ms:.1f} ms  "
                 f"p99 {base_70.p99_ms:.1f} ms"),
            ]
        )
        line, ratio_met = ratio_line("intake/baseline (saturating req/s)", intake_sat.rps, base_sat.rps, TARGET_RATIO)
        p99_met = intake_70.p99_ms <= TARGET_P99_MS
        print(f"  {line}")
        print(
            f"  intake p99 at 70 % = {intake_70.p99_ms:.1f} ms (target ≤ {TARGET_P99_MS:g} ms): "
            f"{'met' if p99_met else 'NOT met'}"
        )
        return 0 if ratio_met and p99_met else 1
    finally:
        signal.alarm(0)
        if server is not None:
            stop_server(server)
        if load is not None:
            load.close()
        if not args.keep_db:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
