"""The app as it runs in production, driven from outside: a database made ready through the CLI
as `make run` does it, and gunicorn serving wsgi.py on a loopback port.

Used by tests/fuzz/run_schemathesis.py and tests/multiserver/.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


# `make run`'s set-up commands in one interpreter: the app is imported once, not four times.
_PREPARE = """
import sys
from wsgi import app
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["load-checklists"], ["load-workflows"],
             ["seed-demo", "--households", sys.argv[1]]):
    with app.app_context():  # as the `flask` command gives every command
        result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit(f"flask {' '.join(args)} failed:\\n{result.output}\\n{result.exception!r}")
"""


def prepare_database(env: dict, households: int) -> list[tuple[str, str, str]]:
    """Migrate, load the checklists and workflows and seed a demo county of `households`, as
    `make run` does; return its logins as (role, username, password). `env` names the
    database, the store and INSPECT_INSTANCE_DIR, where seed-demo writes the logins."""
    subprocess.run([BIN / "python", "-c", _PREPARE, str(households)], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    lines = (Path(env["INSPECT_INSTANCE_DIR"]) / "demo_logins.txt").read_text().splitlines()
    return [tuple(line.split()) for line in lines]


def call(base: str, method: str, path: str, *, json_body=None, body: bytes | None = None,
         headers: dict | None = None, timeout: float = 60) -> tuple[int, object]:
    """Send one request; return the status and the decoded JSON body (None if not JSON)."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
        error.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


class Gunicorn:
    """One gunicorn of wsgi.py on 127.0.0.1:`port`; its error log goes to `log_path`."""

    def __init__(self, env: dict, port: int, log_path: Path, *, workers: int = 2):
        self.env, self.port, self.log_path, self.workers = env, port, log_path, workers
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gunicorn":
        """Start the server and wait until it is healthy."""
        return self.launch().wait_healthy()

    def launch(self) -> "Gunicorn":
        """Start the server without waiting (start several, then wait for each)."""
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [BIN / "gunicorn", "--config", "gunicorn.conf.py",
                 "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                 "--access-logfile", "/dev/null", "wsgi:app"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_healthy(self) -> "Gunicorn":
        """Wait until /healthz answers 200; stop the server and raise if it does not."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                if call(self.url, "GET", "/healthz", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn on port {self.port} did not become healthy:\n"
                           f"{self.log_tail()}")

    def quit(self) -> None:
        """Tell the server to go (gunicorn's quick shutdown: no draining), without waiting."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)

    def stop(self) -> None:
        """Stop the server and its workers; kill them if they do not go within 10 s."""
        self.quit()
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the master and its workers
            process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
