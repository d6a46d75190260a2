"""Benchmark: petition intake over HTTP — POST /api/v1/petitions/ against a bare one-row insert.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.intake

Takes the PostgreSQL server from DATABASE_URL (SQLite is refused) and works in a database of its own,
``wangge_bench_intake``: dropped, created, migrated and seeded with the small demo district at the
start, dropped at the end (``--keep-db`` keeps it). REDIS_URL, when set, is the cache the write
throttle counts in, as in production.

Serves the site with gunicorn, 4 sync workers, on a free port of 127.0.0.1 only, with the production
settings except the URLconf (``bench.intake_settings``: the whole site plus ``/bench/baseline/``, a
bare Django view that parses the JSON and inserts one petition row with the ORM, and
``/bench/drf-floor/``, the same insert behind DRF with the API's token authentication and nothing
else: what the framework costs before any rule, reported beside the others, not a target). The
write throttle stays on but its rate is raised (``WANGGE_WRITE_RATE``) so that it counts without refusing; axes is
not involved (the load is token-authenticated; the token is made directly).

The load comes from ``wrk`` on the same machine (installed with ``apt-get install -y wrk`` when
missing and running as root), with a Lua script for the POST body and headers; every intake request
carries its own ``Idempotency-Key``, as a hotline's retry-safe client would (``--no-key``: without).
For each endpoint: the saturating rate (closed loop at 4, 8, 16 and 32 connections, the two
endpoints taking turns; the best throughput), then a paced run at 70 % of it on 16 connections,
requests started on a jittered schedule kept on the clock (wrk's ``delay`` hook), so arrivals do not
wait for answers; with requests/s, p50 and p99.
Targets: intake/baseline saturating throughput ≥ 0.6; intake p99 ≤ 100 ms at 70 %. Any non-2xx
answer aborts. Bounded: the whole run stops itself (``--max-minutes``) and the server processes are
stopped on every way out.

The machine may be shared: each run also reports the CPU time per request of gunicorn and of the
PostgreSQL backends (read from /proc, so other load does not move it), the intake/baseline ratio
computed from it, and how many cores other processes used meanwhile.
"""

import argparse
import json
import os
import resource
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
# Enough free connections for the schedule to hold through a burst; few enough that the initial
# request of each (sent at once when wrk starts) is not a noticeable share of a paced run.
PACED_CONNECTIONS = 16
TARGET_RATIO = 0.6
TARGET_P99_MS = 100.0
INTAKE = "/api/v1/petitions/"
BASELINE = "/bench/baseline/"
FLOOR = "/bench/drf-floor/"

LUA = r"""
-- args: path, token ("" for none), body, this thread's mean interval between requests in ms (0: as
-- fast as the answers come), keyed ("1"/"0"), run id
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  path, token, body, interval_ms, keyed, run = args[1], args[2], args[3], tonumber(args[4]), args[5] == "1", args[6]
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
# Paced: each thread starts its requests on a schedule (jittered intervals averaging interval_ms)
# kept on the clock, not after each answer, so the rate holds whatever the latency (as long as a
# connection is free): arrivals independent of the server, like a hotline's. Behind schedule, it
# catches up by at most one second's worth.
LUA_DELAY = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local slot = nil

function delay()
  local t = now_ms()
  if slot == nil or slot < t - 1000 then slot = t end
  slot = slot + interval_ms * (0.5 + math.random())
  local wait = slot - t
  if wait < 0 then return 0 end
  return math.floor(wait)
end
"""


@dataclass
class Run:
    connections: int
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    app_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    others_cores: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def app_ms(self) -> float:
        """gunicorn's CPU time per request (master and workers), whatever else runs on the machine."""
        return 1000 * self.app_cpu_s / self.requests

    @property
    def db_ms(self) -> float:
        """PostgreSQL's CPU time per request (the backends of the bench database)."""
        return 1000 * self.db_cpu_s / self.requests


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user + system) of each process still there."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return seconds


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the run (a new database connection) counts from zero.
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def _machine_busy_seconds() -> float:
    """CPU time all processes have used since boot (every core), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICKS


def _process_tree(root: int) -> list[int]:
    pids = [root]
    for task in Path(f"/proc/{root}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            pids += _process_tree(int(child))
    return pids


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
        # Each worker keeps its connection through the whole bench (production: 60 s), so the
        # database's CPU per request is counted on the same backends from start to end.
        "DATABASE_CONN_MAX_AGE": "900",
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
    def __init__(
        self, wrk: str, port: int, token: str, body: dict[str, str], keyed: bool, server: int, db_url: str
    ) -> None:
        self.wrk, self.port, self.token, self.body, self.keyed = wrk, port, token, json.dumps(body), keyed
        self.server, self.db_url = server, db_url
        self.run_id = uuid.uuid4().hex[:12]
        self.dir = Path(tempfile.mkdtemp(prefix="wangge-bench-intake-"))
        (self.dir / "closed.lua").write_text(LUA % {"delay": ""})
        (self.dir / "paced.lua").write_text(LUA % {"delay": LUA_DELAY})

    def run(self, path: str, connections: int, seconds: int, rate: float = 0) -> Run:
        """``seconds`` of POSTs on ``connections``: as fast as answered, or ``rate`` requests/s."""
        threads = min(2, connections)
        interval_ms = 1000 * threads / rate if rate else 0
        script = self.dir / ("paced.lua" if rate else "closed.lua")
        token = "" if path == BASELINE else self.token
        keyed = "1" if (self.keyed and path == INTAKE) else "0"
        command = [
            self.wrk,
            "--threads", str(threads),
            "--connections", str(connections),
            "--duration", f"{seconds}s",
            "--timeout", "5s",
            "--script", str(script),
            f"http://127.0.0.1:{self.port}",
            "--", path, token, self.body, f"{interval_ms:.3f}", keyed, f"{self.run_id}-{time.monotonic_ns()}",
        ]
        app_before, db_before = _cpu_seconds(_process_tree(self.server)), _cpu_seconds(self._db_backends())
        busy_before, children_before = _machine_busy_seconds(), _children_seconds()
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        busy = _machine_busy_seconds() - busy_before
        wrk_cpu = _children_seconds() - children_before
        app_cpu = _cpu_used(app_before, _cpu_seconds(_process_tree(self.server)))
        db_cpu = _cpu_used(db_before, _cpu_seconds(self._db_backends()))
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
            app_cpu_s=app_cpu,
            db_cpu_s=db_cpu,
            # What else ran on the machine meanwhile (Redis, and whatever is not this benchmark).
            others_cores=max(0.0, busy - app_cpu - db_cpu - wrk_cpu) / (result["duration_us"] / 1e6),
        )

    def _db_backends(self) -> list[int]:
        import psycopg

        name = self.db_url.rsplit("/", 1)[1]
        admin = self.db_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
        return [int(pid) for (pid,) in rows]

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def saturate(load: Load, paths: dict[str, str], seconds: int) -> dict[str, Run]:
    """The best closed-loop throughput over growing concurrency: each endpoint's saturating rate.

    The endpoints take turns at each step, so a change in the machine's other load affects both.
    """
    runs: dict[str, list[Run]] = {}
    for connections in CONNECTION_STEPS:
        for label, path in paths.items():
            run = load.run(path, connections, seconds)
            print(
                f"    {label:<8} {connections:>3} connections: {run.rps:8.1f} req/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  "
                f"CPU/request: app {run.app_ms:5.2f} ms, db {run.db_ms:5.2f} ms; "
                f"other load {run.others_cores:.2f} cores",
                flush=True,
            )
            runs.setdefault(label, []).append(run)
    return {label: max(steps, key=lambda run: run.rps) for label, steps in runs.items()}


def _latency(run: Run) -> str:
    return (
        f"{run.rps:.0f} req/s  p50 {run.p50_ms:.1f} ms  p99 {run.p99_ms:.1f} ms "
        f"(other load on the machine: {run.others_cores:.2f} cores)"
    )


def _cpu(run: Run, when: str = "at 70 %") -> str:
    return f"app {run.app_ms:.2f} ms + database {run.db_ms:.2f} ms ({when})"


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
        load = Load(wrk, port, token, body, keyed=not args.no_key, server=server.pid, db_url=url)
        print(f"  server on 127.0.0.1:{port}; intake {'with' if load.keyed else 'without'} Idempotency-Key")
        for path in (INTAKE, FLOOR, BASELINE):  # warm all: imports, connections, caches
            load.run(path, 4, 3)

        paths = {"intake": INTAKE, "floor": FLOOR, "baseline": BASELINE}
        print(
            f"  saturating rate (closed loop, {args.step_seconds} s per step): intake {INTAKE}, "
            f"DRF floor {FLOOR}, baseline {BASELINE}"
        )
        saturated = saturate(load, paths, args.step_seconds)
        at_70: dict[str, Run] = {}
        for label, path in (("intake", INTAKE), ("baseline", BASELINE)):
            target = PACED_SHARE * saturated[label].rps
            print(
                f"  {label}: paced at 70 % = {target:.0f} req/s on {PACED_CONNECTIONS} connections "
                f"for {args.seconds} s",
                flush=True,
            )
            at_70[label] = load.run(path, PACED_CONNECTIONS, args.seconds, rate=target)

        intake_sat, intake_70 = saturated["intake"], at_70["intake"]
        base_sat, base_70 = saturated["baseline"], at_70["baseline"]
        floor_sat = saturated["floor"]
        print()
        print_rows(
            [
                ("intake saturating", f"{intake_sat.rps:.0f} req/s ({intake_sat.connections} connections)"),
                ("intake at 70 %", _latency(intake_70)),
                ("baseline saturating", f"{base_sat.rps:.0f} req/s ({base_sat.connections} connections)"),
                ("baseline at 70 %", _latency(base_70)),
                ("DRF floor saturating", f"{floor_sat.rps:.0f} req/s ({floor_sat.connections} connections)"),
                ("CPU per request, intake", _cpu(intake_70)),
                ("CPU per request, baseline", _cpu(base_70)),
                ("CPU per request, DRF floor", _cpu(floor_sat, "saturating")),
            ]
        )
        line, ratio_met = ratio_line("intake/baseline (saturating req/s)", intake_sat.rps, base_sat.rps, TARGET_RATIO)
        # The same ratio from CPU time per request, which other load on the machine does not move.
        cpu_line, _met = ratio_line(
            "intake/baseline (1 / CPU per request, app + database)",
            1 / (intake_sat.app_ms + intake_sat.db_ms),
            1 / (base_sat.app_ms + base_sat.db_ms),
            TARGET_RATIO,
        )
        print(f"  {cpu_line}")
        # Not a target: how far a DRF endpoint with token authentication gets before any rule runs.
        print(f"  DRF floor/baseline (saturating req/s) = {floor_sat.rps / base_sat.rps:.3f} (for information)")
        print(f"  intake/DRF floor (saturating req/s) = {intake_sat.rps / floor_sat.rps:.3f}")
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
