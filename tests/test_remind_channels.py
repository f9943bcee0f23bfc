"""Reminder channels against real servers on loopback: SMTP (aiosmtpd, plain and STARTTLS with a
login), WeCom and DingTalk group bots (their JSON formats, DingTalk's signature), a webhook; a
channel that fails exits non-zero and is retried, and what went out is never sent twice."""

from __future__ import annotations

import base64
import datetime as dt
import email
import hashlib
import hmac
import socket
import ssl
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hk.remind.channels import dingtalk_sign
from hk.services.audit import Filter, entries
from tests.conftest import git
from tests.orders_support import Shop
from tests.remind_support import (
    RUN_DAY,
    Recorder,
    add_channels,
    due_keys,
    http_server,
    reminder_shop,
)

DAY = RUN_DAY.isoformat()


@pytest.fixture
def shop(archive: Any, archive_path: Path) -> Shop:
    return reminder_shop(archive, archive_path)


def send(shop: Shop, *more: str) -> Any:
    return shop.cli("remind", "--send", "--date", DAY, *more)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def text_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def test_email_sends_the_office_digest_once(shop: Shop, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    add_channels(
        shop.archive.root,
        f"""[[notify.channels]]
name = "office-mail"
kind = "email"
host = "127.0.0.1"
port = {port}
security = "none"
sender = "office@example.com"
to = ["boss@example.com", "desk@example.com"]
""",
    )
    result = send(shop)
    assert result.exit_code == 0, result.output
    assert result.output == ""  # no stdout channel: quiet on success, as under cron
    [mail] = inbox.messages
    assert inbox.envelopes[0].rcpt_tos == ["boss@example.com", "desk@example.com"]
    assert subject(mail).endswith(f"{RUN_DAY.month}月{RUN_DAY.day}日提醒（2项）")
    body = text_of(mail)
    assert "### 明日预约（1）" in body and "张三" in body and "王秀英" in body
    assert "健康证" in body
    assert any(p.get_content_type() == "text/html" for p in mail.walk())
    again = send(shop)
    assert again.exit_code == 0 and len(inbox.messages) == 1
    [sent] = entries(shop.archive, Filter(action="send"))
    assert (sent.to, sent.channel, sent.kind) == ("channel", "office-mail", "customer")
    assert shop.customer_id in sent.records or shop.cleaner_id in sent.records
    assert "phones" in sent.fields and "张三" not in sent.model_dump_json()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the server's) and its key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_email_over_starttls_logs_in_with_the_password_from_a_file(
    shop: Shop, tmp_path: Path
) -> None:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret pass")

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret pass\n")
    try:
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "office-mail"
kind = "email"
host = "127.0.0.1"
port = {port}
security = "starttls"
user = "office@example.com"
password_file = "{secret}"
ca_file = "{cert}"
sender = "office@example.com"
to = ["boss@example.com"]
""",
        )
        result = send(shop)
        assert result.exit_code == 0, result.output
    finally:
        controller.stop()
    assert logins == [(b"office@example.com", b"s3cret pass")]
    assert len(inbox.messages) == 1
    assert "s3cret" not in (shop.archive.root / "hk.toml").read_text()


def test_a_password_file_inside_the_archive_is_refused(shop: Shop, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    (shop.archive.root / "pw.txt").write_text("oops")
    add_channels(
        shop.archive.root,
        f"""[[notify.channels]]
name = "office-mail"
kind = "email"
host = "127.0.0.1"
port = {port}
security = "none"
user = "office"
password_file = "{shop.archive.root / "pw.txt"}"
sender = "office@example.com"
to = ["boss@example.com"]
""",
    )
    result = send(shop)
    assert result.exit_code == 1
    assert "inside the archive" in result.stderr and inbox.messages == []


def test_a_password_in_hk_toml_is_refused(shop: Shop) -> None:
    add_channels(
        shop.archive.root,
        """[[notify.channels]]
name = "office-mail"
kind = "email"
host = "smtp.example.com"
password = "hunter2"
sender = "office@example.com"
to = ["boss@example.com"]
""",
    )
    result = send(shop)
    assert result.exit_code == 1
    assert "never goes into hk.toml" in result.stderr


# --- WeCom ------------------------------------------------------------------------------------


def wecom_answer(request: Any) -> tuple[int, dict[str, Any]]:
    """The WeCom bot's checks: its key in the query, a known msgtype, content present."""
    if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != "KEY-1":
        return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
    body = request.body
    kind = body.get("msgtype")
    if kind not in ("markdown", "text") or not body.get(kind, {}).get("content"):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    if len(body[kind]["content"].encode()) > 4096:
        return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def test_wecom_group_bot_gets_markdown_digest_and_mentions_each_worker(shop: Shop) -> None:
    with http_server(Recorder(answer=wecom_answer)) as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "wecom-office"
kind = "wecom"
url = "{url}/cgi-bin/webhook/send?key=KEY-1"

[[notify.channels]]
name = "wecom-workers"
kind = "wecom"
audiences = ["workers"]
url = "{url}/cgi-bin/webhook/send?key=KEY-1"
per_minute = 600
""",
        )
        result = send(shop)
        assert result.exit_code == 0, result.output
        digest, worker = rec.requests
    assert digest.body["msgtype"] == "markdown"
    assert digest.body["markdown"]["content"].startswith("## ")
    assert "张三" in digest.body["markdown"]["content"]
    assert worker.body["msgtype"] == "text"
    assert worker.body["text"]["mentioned_mobile_list"] == ["13900139000"]
    assert "明天 09:00-12:00" in worker.body["text"]["content"]
    assert "门禁 1234" in worker.body["text"]["content"]  # the door code goes to the worker


def test_wecom_refusal_is_reported_and_retried(shop: Shop) -> None:
    with http_server(Recorder(answer=wecom_answer)) as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "wecom-office"
kind = "wecom"
url = "{url}/cgi-bin/webhook/send?key=WRONG"
""",
        )
        result = send(shop)
        assert result.exit_code == 1
        assert "errcode 93000" in result.stderr and "WRONG" not in result.stderr
        assert rec.requests == []
        path = shop.archive.root / "hk.toml"
        path.write_text(path.read_text().replace("key=WRONG", "key=KEY-1"))
        assert send(shop).exit_code == 0
        assert len(rec.requests) == 1


def test_long_digest_goes_to_wecom_in_parts_under_its_limit(shop: Shop) -> None:
    for n in range(40):  # forty more appointments tomorrow: a digest longer than 4096 bytes
        shop.new("--start", f"{RUN_DAY + dt.timedelta(days=1)} {8 + n % 10:02d}:{n % 6}0")
    with http_server(Recorder(answer=wecom_answer)) as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "wecom-office"
kind = "wecom"
url = "{url}/cgi-bin/webhook/send?key=KEY-1"
per_minute = 600
""",
        )
        result = send(shop)
        assert result.exit_code == 0, result.output
    assert len(rec.requests) > 1
    texts = [r.body["markdown"]["content"] for r in rec.requests]
    assert all(len(t.encode()) <= 4000 for t in texts)
    assert "（1/" in texts[0]
    assert sum(t.count("\n- ") for t in texts) == 42


# --- DingTalk -----------------------------------------------------------------------------------


def dingtalk_answer(secret: str) -> Any:
    """The DingTalk bot's checks: token, a fresh timestamp and the right signature."""

    def answer(request: Any) -> tuple[int, dict[str, Any]]:
        q = request.query
        if q.get("access_token") != "TOKEN-1":
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        stamp = int(q.get("timestamp", "0"))
        if abs(stamp - dt.datetime.now().timestamp() * 1000) > 3_600_000:
            return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if q.get("sign") != expected:  # parse_qsl has URL-decoded it
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.body
        if body.get("msgtype") != "markdown" or not {"title", "text"} <= set(body["markdown"]):
            return 200, {"errcode": 40035, "errmsg": "missing parameter"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


def test_dingtalk_signs_each_request_and_mentions_workers(shop: Shop, tmp_path: Path) -> None:
    secret_file = tmp_path / "dingtalk-secret"
    secret_file.write_text("SECabc+/=123\n")
    with http_server(Recorder(answer=dingtalk_answer("SECabc+/=123"))) as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "dingtalk"
kind = "dingtalk"
audiences = ["office", "workers"]
url = "{url}/robot/send?access_token=TOKEN-1"
secret_file = "{secret_file}"
per_minute = 600
""",
        )
        result = send(shop)
        assert result.exit_code == 0, result.output
        office, worker = rec.requests
    assert office.body["markdown"]["title"].endswith("提醒（2项）")
    assert office.body["at"] == {"atMobiles": [], "isAtAll": False}
    assert worker.body["at"]["atMobiles"] == ["13900139000"]
    assert worker.body["markdown"]["text"].endswith("@13900139000")


def test_dingtalk_wrong_secret_fails(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HK_TEST_DINGTALK", "not the secret")
    with http_server(Recorder(answer=dingtalk_answer("SECright"))) as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "dingtalk"
kind = "dingtalk"
url = "{url}/robot/send?access_token=TOKEN-1"
secret_env = "HK_TEST_DINGTALK"
""",
        )
        result = send(shop)
    assert result.exit_code == 1 and "sign not match" in result.stderr
    assert rec.requests == []


def test_dingtalk_signature_is_the_documented_one() -> None:
    # base64(HMAC-SHA256("SEC1", "1700000000000\nSEC1")), then URL-encoded.
    digest = hmac.new(b"SEC1", b"1700000000000\nSEC1", hashlib.sha256).digest()
    assert dingtalk_sign("SEC1", 1700000000000) == base64.b64encode(digest).decode().replace(
        "+", "%2B"
    ).replace("/", "%2F").replace("=", "%3D")


# --- webhooks, failures, partial runs -------------------------------------------------------


def test_webhook_gets_one_message_per_person_with_a_bearer_token(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HK_TEST_TOKEN", "tok-42")
    with http_server() as (url, rec):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "gateway"
kind = "webhook"
audiences = ["customers", "workers"]
url = "{url}/hk"
secret_env = "HK_TEST_TOKEN"
""",
        )
        result = send(shop)
        assert result.exit_code == 0, result.output
    assert {r.headers["authorization"] for r in rec.requests} == {"Bearer tok-42"}
    by_audience = {r.body["audience"]: r.body for r in rec.requests}
    assert set(by_audience) == {"customer", "worker"}
    customer = by_audience["customer"]
    assert customer["to"]["name"] == "张三" and customer["to"]["phones"] == ["+8613800138000"]
    assert "明天" in customer["text"] and "门禁" not in customer["text"]
    worker = by_audience["worker"]
    assert [k.split(":")[0] for k in worker["occasions"]] == ["appointment", "certificate"]
    assert sorted(rec.occasions()) == sorted(due_keys(shop.cli, "customers", "workers"))


def test_one_failing_channel_does_not_stop_the_others_nor_resend_them(shop: Shop) -> None:
    broken = Recorder(answer=lambda request: (500, {}))
    with http_server() as (good_url, good), http_server(broken) as (bad_url, _):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "good"
kind = "webhook"
audiences = ["office", "customers", "workers"]
url = "{good_url}/hk"

[[notify.channels]]
name = "bad"
kind = "webhook"
audiences = ["office", "customers", "workers"]
url = "{bad_url}/hk"
""",
        )
        first = send(shop)
        assert first.exit_code == 1
        assert "channel bad: HTTP 500" in first.stderr and "next run" in first.stderr
        sent_first = sorted(good.occasions())
        assert sent_first == sorted(due_keys(shop.cli))
        broken.answer = lambda request: (200, {})
        second = send(shop)
        assert second.exit_code == 0, second.output
        assert sorted(good.occasions()) == sent_first  # nothing twice on the good channel
        assert sorted(broken.occasions()) == sent_first  # everything, once, on the other
    log = git(shop.archive.root, "log", "--format=%s", "-3")
    assert log.splitlines()[:2] == [
        f"remind: {len(sent_first)} sent (bad {len(sent_first)})",
        f"remind: {len(sent_first)} sent (good {len(sent_first)})",
    ]
    assert git(shop.archive.root, "status", "--porcelain", "--", "reminders") == ""


def test_sent_log_names_occasions_channels_and_audiences_only(shop: Shop) -> None:
    with http_server() as (url, _):
        add_channels(
            shop.archive.root,
            f"""[[notify.channels]]
name = "gateway"
kind = "webhook"
audiences = ["office", "customers", "workers"]
url = "{url}/hk"
""",
        )
        assert send(shop).exit_code == 0
    [path] = (shop.archive.root / "reminders" / "sent").glob("*/*/*.json")
    text = path.read_text()
    assert "张三" not in text and "138" not in text and "王秀英" not in text
    import json

    data = json.loads(text)
    assert {e["channel"] for e in data["sent"]} == {"gateway"}
    assert {e["audience"] for e in data["sent"]} == {"office", "customer", "worker"}
    assert data["date"] == DAY


def test_messages_in_english_when_the_archive_says_so(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(path.read_text().replace('language = "zh_CN"', 'language = "en"'))
    add_channels(
        shop.archive.root,
        """[[notify.channels]]
name = "stdout"
kind = "stdout"
audiences = ["office", "customers", "workers"]
""",
    )
    result = send(shop)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"reminders for {DAY} (2)" in out and "### Tomorrow's appointments (1)" in out
    assert "-- to customer 张三 (138 0013 8000) --" in out and "Dear 张三," in out
    assert "-- to worker 王秀英 (139 0013 9000) --" in out
    assert "tomorrow 09:00-12:00" in out and "your 健康证 expires on" in out
    assert send(shop).stdout == ""
