"""A warm command server per archive, started and stopped with the watcher (``hk watch``).

A fresh ``hk`` spends most of a short command importing Python libraries: a few hundred
milliseconds before it reads a byte of the archive. Operators and cron scripts run many short
commands on the same archive, so, like a Rails or Gradle daemon, hk can keep one process that
has imported everything and fork a child of it per command (:mod:`hk.warm.server`). ``hk``
hands its command line, environment, working folder and standard streams to that child when a
server runs for the archive (:mod:`hk.warm.client`), and runs the command itself otherwise:
the server is only ever a shortcut, and the output and exit code are the same either way.
"""

from __future__ import annotations

import os

DAEMON = "serve"


def start(root: str, idle_hours: float, wait: float = 30.0) -> dict[str, str]:
    """Start the archive's command server (if none runs) and wait until it serves."""
    import subprocess
    import sys
    import time

    from hk.errors import HkError
    from hk.store.watch import log_path, state_dir, status

    running = status(root, DAEMON)
    if running is not None:
        return running
    os.makedirs(state_dir(root), exist_ok=True)
    with open(log_path(root, DAEMON), "ab") as log:
        if log.tell() > 1 << 20:
            log.truncate(0)
        proc = subprocess.Popen(
            [sys.executable, "-m", "hk.warm.server", os.path.realpath(root), str(idle_hours)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd="/",
            start_new_session=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        info = status(root, DAEMON)
        if info is not None and len(info) >= 3:
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise HkError("the command server did not start", hint=f"see {log_path(root, DAEMON)}")


def stop(root: str, wait: float = 5.0) -> bool:
    """Stop the archive's command server; False if none was running."""
    import contextlib
    import signal
    import time

    from hk.errors import HkError
    from hk.store.watch import status

    info = status(root, DAEMON)
    if info is None:
        return False
    if info.get("pid", "").isdigit():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(info["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + wait
    while status(root, DAEMON) is not None:
        if time.monotonic() > deadline:
            raise HkError(f"the command server (pid {info.get('pid')}) did not stop")
        time.sleep(0.02)
    return True
