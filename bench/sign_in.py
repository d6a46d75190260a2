"""Benchmark: where a sign-in's time goes (issue 11: "sign-in takes 2–4.6 s on a 2-core machine").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/any .venv/bin/python -m bench.sign_in [--samples 10]

Works in its own database (``wangge_bench_sign_in``), created, migrated and dropped. Times, in the
same run and with the project's settings (axes, sessions, the configured password hasher):

- ``sign-in``: POST /accounts/login/ with the right password, as the browser sends it;
- ``hash``: one check of that password by the configured hasher, alone (the baseline);
- ``rest``: the same sign-in for an account whose stored hash is the cheap MD5 one (everything
  a sign-in does besides hashing: axes, the user, the session, last_login);
- ``two at once``: two sign-ins in parallel threads, as two users on a 2-core machine.

Prints p50 and p95 of each and the hasher's share of a sign-in. No target: it says where the time
goes. The hasher itself (PBKDF2 → Argon2) is issue 10's; nothing here weakens it.
"""

import argparse
import os
import sys
import threading
import time

from bench.common import bench_database_url, drop_database, percentile, print_rows, recreate_database

DEFAULT_DB = "wangge_bench_sign_in"
PASSWORD = "bench-sign-in-pw-1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    url = bench_database_url(DEFAULT_DB, purpose="a sign-in writes the session and axes' log")
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import MD5PasswordHasher, check_password, get_hasher, make_password
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client, override_settings

    from governance.models import User

    try:
        call_command("migrate", verbosity=0)
        settings.ALLOWED_HOSTS = ["*"]
        slow = User.objects.create(username="bench-slow", role=User.Role.WORKER, password=make_password(PASSWORD))
        cheap = User.objects.create(
            username="bench-cheap", role=User.Role.WORKER, password=MD5PasswordHasher().encode(PASSWORD, "benchsalt")
        )
        hasher = get_hasher()

        def sign_in(username: str) -> float:
            client = Client()
            client.get("/accounts/login/")
            start = time.perf_counter()
            response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
            elapsed = time.perf_counter() - start
            if response.status_code != 302:
                sys.exit(f"sign-in as {username} answered {response.status_code}")
            connections.close_all()
            return elapsed

        def hash_once() -> float:
            start = time.perf_counter()
            assert check_password(PASSWORD, slow.password, setter=None)
            return time.perf_counter() - start

        sign_in(slow.username)  # warm up: imports, templates, the first connection
        samples = {
            "sign-in": [sign_in(slow.username) for _ in range(args.samples)],
            "hash": [hash_once() for _ in range(args.samples)],
        }
        # MD5 first: preferred, so a sign-in does not upgrade (re-hash) the cheap account's password.
        md5_first = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
        with override_settings(PASSWORD_HASHERS=md5_first):
            samples["rest"] = [sign_in(cheap.username) for _ in range(args.samples)]
        pairs: list[float] = []

        def sign_in_slow() -> None:
            pairs.append(sign_in(slow.username))

        for _ in range(max(1, args.samples // 2)):
            threads = [threading.Thread(target=sign_in_slow) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        samples["two at once"] = pairs

        cost = getattr(hasher, "iterations", "")
        print(f"\nSign-in with {hasher.algorithm} ({cost} iterations), {args.samples} samples each,"
              f" on {os.cpu_count()} cores")
        rows = [
            (name, f"p50 {percentile(values, 50) * 1000:7.0f} ms   p95 {percentile(values, 95) * 1000:7.0f} ms")
            for name, values in samples.items()
        ]
        share = percentile(samples["hash"], 50) / percentile(samples["sign-in"], 50)
        rows.append(("hash / sign-in (p50)", f"{share:.2f}"))
        print_rows(rows)
        return 0
    finally:
        connections.close_all()
        drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
