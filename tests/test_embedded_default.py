"""The embedded default boots with no services: what `make run` does, as real processes.

No DATABASE_URL, no REDIS_URL: SQLite and kombu's filesystem broker in a temporary WANGGE_VAR_DIR.
migrate, seed_demo, then scripts/serve.sh (gunicorn in front, a Celery worker with embedded beat
beside it); a worker signs in through the login form and sees the home page, and beat's overdue
scan runs on the worker. Everything started here is stopped here.
"""

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "embedded-demo-7"
BOOT_TIMEOUT = 60
SCAN_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(
        WANGGE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="governance.settings",
        # beat fires the overdue scan every 2 seconds instead of every minute
        WANGGE_OVERDUE_SCAN_SECONDS="2",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_until_answering(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll ``url`` until it answers 200, for at most BOOT_TIMEOUT seconds; fail with the server's output.

    While gunicorn boots, a request may be refused, reset, cut short or time out, or meet an error
    page: each is retried (every OSError, which urllib's errors are, and a malformed answer).
    """
    deadline = time.monotonic() + BOOT_TIMEOUT
    last = "no attempt yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"scripts/serve.sh exited with {proc.returncode} before {url} answered:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {BOOT_TIMEOUT} s (last: {last}); the server's output:\n{log.read_text()}")


@pytest.fixture(scope="module")
def served(embedded_env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """migrate + seed_demo + scripts/serve.sh, as `make run` does; yields the base URL and var dir."""
    var = Path(embedded_env["WANGGE_VAR_DIR"])
    manage(embedded_env, "migrate", "--noinput", "-v0")
    manage(embedded_env, "seed_demo", "--password", PASSWORD)
    assert (var / "wangge.sqlite3").exists()
    port = free_port()
    log = (var / "serve.log").open("w")
    # its own process group, so the worker and beat it starts are stopped with it
    proc = subprocess.Popen(
        ["bash", "scripts/serve.sh", "127.0.0.1", str(port), PASSWORD],
        cwd=ROOT,
        env=embedded_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(proc, f"{base}/accounts/login/", var / "serve.log")
        yield base, var
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_the_environment_has_no_services(embedded_env: dict[str, str]) -> None:
    assert "DATABASE_URL" not in embedded_env and "REDIS_URL" not in embedded_env
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; import django; django.setup();"
         "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"],
        cwd=ROOT, env=embedded_env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()
    assert out == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]


def test_a_worker_signs_in_through_the_login_form(served: tuple[str, Path]) -> None:
    base, _var = served
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    with browser.open(f"{base}/accounts/login/", timeout=10) as page:
        assert page.status == 200
        html = page.read().decode()
    assert re.search(r'<form method="post"', html)
    assert 'name="username"' in html and 'name="password"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None

    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": "worker", "password": PASSWORD, "next": "/"}
    ).encode()
    # urllib follows the 302 after a good sign-in with a GET, as a browser does
    with browser.open(f"{base}/accounts/login/", data=form, timeout=10) as home:
        assert home.status == 200
        assert urllib.parse.urlsplit(home.url).path == "/"
        body = home.read().decode()
    assert 'id="scope"' in body
    assert "网格员" in body  # the demo worker's name, from the data (not from a catalogue)
    assert 'action="/accounts/logout/"' in body


def test_a_wrong_password_stays_on_the_login_page(served: tuple[str, Path]) -> None:
    base, _var = served
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(f"{base}/accounts/login/", timeout=10) as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": "worker", "password": "not-it"}
    ).encode()
    with browser.open(f"{base}/accounts/login/", data=form, timeout=10) as again:
        assert again.status == 200
        assert urllib.parse.urlsplit(again.url).path == "/accounts/login/"
        assert 'role="alert"' in again.read().decode()


def test_beat_runs_the_overdue_scan_on_the_worker(served: tuple[str, Path]) -> None:
    _base, var = served
    log = var / "log" / "celery.log"
    deadline = time.monotonic() + SCAN_TIMEOUT
    pattern = re.compile(r"Task petitions\.tasks\.scan_overdue\[[0-9a-f-]+\] succeeded")
    while not (log.exists() and pattern.search(log.read_text(errors="replace"))):
        assert time.monotonic() < deadline, "no successful scan_overdue in the worker log:\n" + (
            log.read_text(errors="replace") if log.exists() else "(no log)"
        )
        time.sleep(1)
    text = log.read_text(errors="replace")
    assert "beat: Starting" in text
    assert "filesystem" in text  # the worker's banner names its transport
    # the broker's files live in the temporary var dir, nowhere else
    assert (var / "celery" / "queue").is_dir()
    assert not (ROOT / "control").exists()
