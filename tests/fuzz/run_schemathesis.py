"""Fuzz every operation of the live app's OpenAPI document with schemathesis, as an admin and
as an inspector: 0 server errors and 0 responses off their documented schema, or exit 1.

A fresh SQLite database with the demo county, gunicorn on a free port, a fixed seed and a
time budget per role. Prints the requests sent, the operations covered and the time taken.
Run: .venv/bin/python tests/fuzz/run_schemathesis.py [--max-examples 50] [--max-time 90]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
from tests.live_app import Gunicorn, prepare_database  # noqa: E402
from tests.s3server import free_port  # noqa: E402

ROLES = {"county_admin": "admin", "inspector": "inspector"}


def prepare(instance: Path) -> tuple[dict, dict[str, str]]:
    env = {**os.environ, "INSPECT_INSTANCE_DIR": str(instance), "FLASK_APP": "wsgi.py",
           "DATABASE_URL": f"sqlite:///{instance / 'fuzz.db'}", "SECRET_KEY": "fuzz",
           "STORAGE_LOCAL_ROOT": str(instance / "photos"),
           "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    logins = {username: password for _, username, password in prepare_database(env, 60)}
    return env, logins


def token(base: str, username: str, password: str) -> str:
    request = urllib.request.Request(f"{base}/api/v1/auth/login", method="POST",
                                     data=json.dumps({"username": username,
                                                      "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


def fuzz(base: str, env: dict, username: str, bearer: str, args, report: Path) -> dict:
    hooks_env = {**env, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT),
                 "FUZZ_USERNAME": username}
    started = time.monotonic()
    result = subprocess.run([
        BIN / "schemathesis", "run", f"{base}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {bearer}",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--max-time", str(args.max_time), "--workers", "1", "--request-timeout", "60",
        "--phases", "examples,coverage,fuzzing", "--no-shrink", "--continue-on-failure",
        "--generation-deterministic", "--suppress-health-check", "all",
        "--report", "ndjson", "--report-ndjson-path", str(report), "--warnings", "off",
    ], cwd=ROOT, env=hooks_env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    requests, operations = count(result.stdout)
    print(result.stdout[-6000:], file=sys.stderr if result.returncode else sys.stdout)
    return {"user": username, "exit": result.returncode, "requests": requests,
            "operations": operations, "seconds": round(seconds)}


def count(output: str) -> tuple[int, int]:
    """Requests sent (test cases generated) and operations tested, from the run's summary."""
    generated = re.search(r"(\d+) generated", output)
    tested = re.search(r"Tested: (\d+)", output)
    return (int(generated[1]) if generated else 0), (int(tested[1]) if tested else 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, default=90, help="seconds per role")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        instance = Path(folder)
        env, logins = prepare(instance)
        server = Gunicorn(env, free_port(), instance / "gunicorn.log").start()
        try:
            # Both logins before any fuzzing: fuzzing POST /auth/login sends wrong passwords
            # from this address, and the login throttle then refuses it for a while.
            tokens = {username: token(server.url, username, logins[username])
                      for username in ROLES.values()}
            runs = [fuzz(server.url, env, username, bearer, args, instance / f"{username}.ndjson")
                    for username, bearer in tokens.items()]
        finally:
            server.stop()
    for run in runs:
        print(f"schemathesis as {run['user']}: {run['requests']} requests over "
              f"{run['operations']} operations in {run['seconds']} s, exit {run['exit']}")
    return 1 if any(run["exit"] for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
