"""The channels reminders go out on: standard output, e-mail (SMTP), the group bots of WeCom
(企业微信) and DingTalk (钉钉), and any webhook.

Small clients on the standard library (``smtplib``, ``urllib``) rather than a notification
library: Apprise, the well-kept one, covers SMTP, WeCom and DingTalk, but sends to the vendors'
fixed hosts (no company proxy, no private gateway, no test server on loopback), sends WeCom
text only, and @-mentions no one by phone, which is how a message in a workers' group reaches
one worker. The message formats are the vendors' own:

- WeCom group bot: ``POST …/cgi-bin/webhook/send?key=…`` with ``{"msgtype": "markdown",
  "markdown": {"content": …}}`` or ``{"msgtype": "text", "text": {"content": …,
  "mentioned_mobile_list": […]}}``; the answer's ``errcode`` is 0 on success;
- DingTalk group bot: ``POST …/robot/send?access_token=…&timestamp=…&sign=…`` with
  ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}, "at": {"atMobiles": […]}}``;
  ``sign`` is base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded, when the bot
  has a signing secret (加签);
- a webhook: ``POST`` of hk's own JSON (see :meth:`Webhook.payload`), with ``Authorization:
  Bearer <secret>`` when a secret is configured; any 2xx answer is success.

An error message never contains a URL (a bot's URL holds its key) or a secret.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hk.domain.settings import NotifyChannel
    from hk.remind.messages import Message

GROUP_LIMIT_BYTES = 4000
"""A group bot message's text, at most (WeCom refuses markdown over 4096 bytes)."""


class ChannelError(Exception):
    """A delivery failed; the text is safe to show and log (no URL, no secret)."""


def read_secret(channel: NotifyChannel, stem: str, root: Path) -> str:
    """``<stem>_env`` or ``<stem>_file`` of the channel, or "" if neither is set.

    A file must lie outside the archive: the archive is committed and pushed.
    """
    var, name = getattr(channel, f"{stem}_env"), getattr(channel, f"{stem}_file")
    if var:
        value = os.environ.get(var, "")
        if not value:
            raise ChannelError(
                f"{stem}: environment variable {var} is not set (cron passes "
                f"none of your shell's variables: {stem}_file works there)"
            )
        return value.strip()
    if name:
        path = Path(name).expanduser().resolve()
        if path.is_relative_to(root.resolve()):
            raise ChannelError(
                f"{stem}_file {name} is inside the archive, which is committed "
                "and pushed: keep secrets outside it"
            )
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ChannelError(f"{stem}_file {name}: {exc.strerror or exc}") from None
    return ""


class Sender(abc.ABC):
    """Delivers messages on one channel; :meth:`open` before, :meth:`close` after."""

    limit: int | None = None
    """Largest message text in UTF-8 bytes, if the channel has a limit."""

    def __init__(self, channel: NotifyChannel, root: Path, company: str) -> None:
        self.channel, self.root, self.company = channel, root, company

    def open(self) -> None:  # noqa: B027 (a hook: most channels have nothing to open)
        """Connect or read secrets; raises :class:`ChannelError`."""

    @abc.abstractmethod
    def send(self, message: Message) -> None:
        """Deliver one message; raises :class:`ChannelError`."""

    def close(self) -> None:  # noqa: B027 (a hook: most channels have nothing to close)
        """Disconnect (never raises)."""


class Stdout(Sender):
    """Standard output: what a cron job prints is mailed to its user."""

    def __init__(
        self, channel: NotifyChannel, root: Path, company: str, stream: IO[str] | None = None
    ) -> None:
        super().__init__(channel, root, company)
        self.stream = stream or sys.stdout

    def send(self, message: Message) -> None:
        try:
            self.stream.write(message.banner() + message.text.rstrip("\n") + "\n\n")
            self.stream.flush()
        except OSError as exc:
            raise ChannelError(f"cannot write to standard output: {exc}") from None


class Email(Sender):
    """The office digest by SMTP (SSL, STARTTLS or plain), one connection per run."""

    def open(self) -> None:
        import smtplib
        import ssl

        c = self.channel
        password = read_secret(c, "password", self.root)
        context = (
            ssl.create_default_context(cafile=c.ca_file or None) if (c.security != "none") else None
        )
        port = c.port or {"ssl": 465, "starttls": 587, "none": 25}[c.security]
        try:
            if c.security == "ssl":
                self.smtp: Any = smtplib.SMTP_SSL(
                    c.host, port, timeout=c.timeout_s, context=context
                )
            else:
                self.smtp = smtplib.SMTP(c.host, port, timeout=c.timeout_s)
                if c.security == "starttls":
                    self.smtp.starttls(context=context)
            if c.user:
                self.smtp.login(c.user, password)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP {c.host}:{port}: {_smtp_text(exc)}") from None

    def send(self, message: Message) -> None:
        import smtplib
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        c = self.channel
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = c.sender
        mail["To"] = ", ".join(c.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=c.sender.rpartition("@")[2] or None)
        mail.set_content(message.text)
        mail.add_alternative(message.html(), subtype="html")
        try:
            self.smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP {c.host}: {_smtp_text(exc)}") from None

    def close(self) -> None:
        smtp = getattr(self, "smtp", None)
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:  # the mail went out; a rude goodbye changes nothing
                smtp.close()


def _smtp_text(exc: BaseException) -> str:
    code, text = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", b"")
    if code is not None:
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{code} {detail}".strip()
    return str(exc) or type(exc).__name__


class Http(Sender):
    """A JSON POST to a URL, at most ``per_minute`` a minute for the group bots."""

    def open(self) -> None:
        self.url = self.channel.url or read_secret(self.channel, "url", self.root)
        if not self.url.startswith(("https://", "http://")):
            raise ChannelError(f"channel {self.channel.name}: the URL is not http(s)")
        self.secret = read_secret(self.channel, "secret", self.root)
        self._last = 0.0

    def send(self, message: Message) -> None:
        per_minute = getattr(self.channel, "per_minute", 0) if self.limit else 0
        if per_minute:
            wait = self._last + 60 / per_minute - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        try:
            answer = self.post(self.target(), self.payload(message))
        finally:
            self._last = time.monotonic()
        self.check(answer)

    def target(self) -> str:
        return self.url

    def headers(self) -> dict[str, str]:
        return {}

    @abc.abstractmethod
    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body the service expects for ``message``."""

    def check(self, answer: bytes) -> None:
        """Refuse an answer that says the message was not taken (HTTP 2xx is not enough)."""

    def post(self, url: str, payload: dict[str, Any]) -> bytes:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "hk-remind",
                **self.headers(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.channel.timeout_s) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise ChannelError(f"cannot connect: {exc.reason}") from None
        except TimeoutError:
            raise ChannelError(f"no answer within {self.channel.timeout_s:g} s") from None
        except OSError as exc:
            raise ChannelError(f"connection failed: {exc.strerror or exc}") from None


def _errcode(kind: str, answer: bytes) -> None:
    try:
        data = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChannelError(f"{kind} answered something other than JSON") from None
    if not isinstance(data, dict) or data.get("errcode") != 0:
        code = data.get("errcode") if isinstance(data, dict) else None
        text = data.get("errmsg", "") if isinstance(data, dict) else ""
        raise ChannelError(f"{kind} refused the message: errcode {code} {text}".strip())


def mobiles(person: dict[str, Any] | None) -> list[str]:
    """A person's mainland mobile numbers as group bots take them (``13800138000``)."""
    phones = (person or {}).get("phones") or []
    return [p[3:] for p in phones if p.startswith("+861") and len(p) == 14]


class Wecom(Http):
    """A WeCom (企业微信) group bot."""

    limit = GROUP_LIMIT_BYTES

    def payload(self, message: Message) -> dict[str, Any]:
        mention = mobiles(message.person) if message.person else []
        if self.channel.format == "markdown" and not mention:
            return {"msgtype": "markdown", "markdown": {"content": message.text}}
        text: dict[str, Any] = {"content": message.plain()}
        if mention:
            text["mentioned_mobile_list"] = mention
        return {"msgtype": "text", "text": text}

    def check(self, answer: bytes) -> None:
        _errcode("WeCom", answer)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's request signature: base64(HMAC-SHA256(secret, "ts\\nsecret")), URL-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


class Dingtalk(Http):
    """A DingTalk (钉钉) group bot, signed when it has a secret (加签)."""

    limit = GROUP_LIMIT_BYTES

    def target(self) -> str:
        if not self.secret:
            return self.url
        stamp = int(time.time() * 1000)
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={stamp}&sign={dingtalk_sign(self.secret, stamp)}"

    def payload(self, message: Message) -> dict[str, Any]:
        mention = mobiles(message.person) if message.person else []
        at = {"atMobiles": mention, "isAtAll": False}
        if self.channel.format == "text":
            text = message.plain() + "".join(f" @{m}" for m in mention)
            return {"msgtype": "text", "text": {"content": text}, "at": at}
        text = message.text + ("\n\n" + " ".join(f"@{m}" for m in mention) if mention else "")
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}, "at": at}

    def check(self, answer: bytes) -> None:
        _errcode("DingTalk", answer)


class Webhook(Http):
    """Any URL taking hk's JSON: an SMS or WeChat gateway, a chat, a script of your own."""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def payload(self, message: Message) -> dict[str, Any]:
        to = None
        if message.person:
            p = message.person
            to = {
                "kind": p.get("kind"),
                "id": p.get("id"),
                "code": p.get("code"),
                "name": p.get("name"),
                "phones": p.get("phones", []),
                "wechat": p.get("wechat", ""),
            }
        return {
            "source": "hk",
            "company": self.company,
            "audience": message.audience,
            "to": to,
            "title": message.title,
            "text": message.text,
            "format": message.format,
            "day": message.day,
            "occasions": message.keys,
        }


SENDERS: dict[str, type[Sender]] = {
    "stdout": Stdout,
    "email": Email,
    "wecom": Wecom,
    "dingtalk": Dingtalk,
    "webhook": Webhook,
}


def sender_for(channel: NotifyChannel, root: Path, company: str) -> Sender:
    return SENDERS[channel.kind](channel, root, company)
