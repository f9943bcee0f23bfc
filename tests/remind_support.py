"""What the reminder tests share: a small shop with something due, channels in hk.toml, and a
real HTTP server on loopback that records what group bots and webhooks are sent."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.orders_support import DAY, Shop, make_shop, when

RUN_DAY = DAY - dt.timedelta(days=1)
"""The day the tests run the reminders for: the shop's order is "tomorrow"."""


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Recorder:
    """Every request the server answered, and how it answers the next one."""

    requests: list[Request] = field(default_factory=list)
    answer: Callable[[Request], tuple[int, dict[str, Any]]] = lambda request: (
        200,
        {"errcode": 0, "errmsg": "ok"},
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def occasions(self) -> list[str]:
        return [key for r in self.requests for key in r.body.get("occasions", [])]


@contextmanager
def http_server(recorder: Recorder | None = None) -> Iterator[tuple[str, Recorder]]:
    """A real HTTP server on 127.0.0.1; yields its base URL and the recorder."""
    rec = recorder or Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(size)
            parsed = urllib.parse.urlsplit(self.path)
            request = Request(
                parsed.path,
                dict(urllib.parse.parse_qsl(parsed.query)),
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw.decode("utf-8")),
            )
            status, answer = rec.answer(request)
            if status == 0:  # hang up without an answer: the message was not taken
                self.close_connection = True
                return
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if 200 <= status < 300 and answer.get("errcode", 0) == 0:
                with rec.lock:
                    rec.requests.append(request)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", rec
    finally:
        server.shutdown()
        server.server_close()


def add_channels(root: Path, text: str) -> None:
    """Append ``[[notify.channels]]`` tables to the archive's hk.toml."""
    path = root / "hk.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def reminder_shop(archive: Any, archive_path: Path) -> Shop:
    """The order tests' shop, with a dispatched order tomorrow (of :data:`RUN_DAY`) and the
    cleaner's health certificate expiring in a week: office, customer and worker items."""
    shop = make_shop(archive, archive_path)
    shop.dispatched("--start", when(0, "09:00"))
    expires = (RUN_DAY + dt.timedelta(days=7)).isoformat()
    shop.cli.ok(
        "worker",
        "edit",
        shop.cleaner,
        "--cert",
        f"健康证:JK-001:{expires}",
        "--phone",
        "13900139000",
    )
    return shop


def due_keys(cli: Any, *audience: str) -> list[str]:
    """The occasion keys ``hk remind --json`` lists for :data:`RUN_DAY`."""
    args = [a for name in audience for a in ("--audience", name)]
    data = cli.json("remind", "--date", RUN_DAY.isoformat(), *args)
    return [item["key"] for item in data["items"]]
