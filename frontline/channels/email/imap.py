"""A small IMAP client over the standard ``imaplib``, run in a worker thread.

Only what the poller needs, all by UID (sequence numbers shift when others expunge):
the folder's UIDVALIDITY, the UIDs after the last one taken (or the unseen ones on a first
sync), one message's raw bytes without setting ``\\Seen`` (``BODY.PEEK[]``), and setting
``\\Seen`` once it is stored; and IDLE (RFC 2177), where the server announces new mail
the moment it arrives. Every failure becomes one of the channel errors: a refused
login is :class:`AuthFailed`, a missing folder :class:`BadRequest`, network trouble
:class:`Unavailable` or :class:`Timeout`.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from frontline.channels.base import AuthFailed, BadRequest, Timeout, Unavailable

_UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")
_UID_RE = re.compile(rb"UID (\d+)")
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
_EXISTS_RE = re.compile(rb"^\* \d+ EXISTS\b", re.IGNORECASE)
IdleOutcome = Literal["mail", "timeout", "stopped"]


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: Literal["tls", "starttls", "none"]
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = 30.0


def encode_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "Поддержка" is
    ``&BB8EPgQ0BDQENQRABDYEOgQw-``; printable ASCII stays as it is, ``&`` becomes ``&-``."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string (modified UTF-7; spaces, quotes escaped)."""
    encoded = encode_folder(folder)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    if isinstance(data, list):
        return " ".join(_text(d) for d in data)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


class ImapMailbox:
    """One connection to one folder. Synchronous: use it from one thread at a time (the
    async helpers below run each call in a worker thread)."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._conn: imaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self.uidnext = 0  # the UID the next new message will get (0: not announced)
        self.capabilities: frozenset[str] = frozenset()  # after login (they change at login)
        self._idle_tag = 0
        self._idle_buffer = b""

    # connection -------------------------------------------------------------------------

    def open(self) -> None:
        s = self.settings
        try:
            if s.security == "tls":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    s.host, s.port, ssl_context=ssl.create_default_context(), timeout=s.timeout
                )
            else:
                conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
        except TimeoutError as exc:
            raise Timeout(f"IMAP {s.host}:{s.port} timed out: {exc}") from exc
        except ssl.SSLError as exc:
            raise Unavailable(f"IMAP {s.host}:{s.port} TLS failed: {exc}") from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise Unavailable(f"IMAP {s.host}:{s.port} unreachable: {exc}") from exc
        self._conn = conn
        if s.security == "starttls":
            try:
                conn.starttls(ssl.create_default_context())
            except (OSError, imaplib.IMAP4.error) as exc:
                self.close()
                raise Unavailable(f"IMAP {s.host}:{s.port} STARTTLS failed: {exc}") from exc
        try:
            conn.login(s.username, s.password)
        except imaplib.IMAP4.abort as exc:
            self.close()
            raise Unavailable(f"IMAP connection lost: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            self.close()
            raise AuthFailed(f"IMAP login refused for {s.username}: {_text(exc.args)}") from exc
        except OSError as exc:
            self.close()
            raise Unavailable(f"IMAP connection lost: {exc}") from exc
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            _typ, caps = conn.capability()
            self.capabilities = frozenset(_text(caps).upper().split())
        status, data = self._call("select", _quote(s.folder))
        if status != "OK":
            self.close()
            raise BadRequest(f"IMAP folder {s.folder!r} cannot be opened: {_text(data)}")
        _s, found = conn.response("UIDVALIDITY")
        value = found[0] if found and found[0] else b"0"
        self.uidvalidity = int(value) if isinstance(value, bytes) and value.isdigit() else 0
        if not self.uidvalidity:
            raise Unavailable("the IMAP server sent no UIDVALIDITY")
        _s, found = conn.response("UIDNEXT")
        value = found[0] if found and found[0] else b"0"
        self.uidnext = int(value) if isinstance(value, bytes) and value.isdigit() else 0

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()

    def __enter__(self) -> ImapMailbox:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, command: str, *args: str) -> tuple[str, list[object]]:
        if self._conn is None:
            raise Unavailable("the IMAP connection is closed")
        try:
            if command == "select":
                status, data = self._conn.select(args[0])
            else:
                status, data = self._conn.uid(command, *args)
        except TimeoutError as exc:
            raise Timeout(f"IMAP {command} timed out: {exc}") from exc
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise Unavailable(f"IMAP connection lost during {command}: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            raise Unavailable(f"IMAP {command} failed: {_text(exc.args)}") from exc
        return status, list(data)

    # commands ---------------------------------------------------------------------------

    def _search(self, *criteria: str) -> list[int]:
        status, data = self._call("SEARCH", *criteria)
        if status != "OK":
            raise Unavailable(f"IMAP SEARCH failed: {_text(data)}")
        return sorted({int(n) for part in data if isinstance(part, bytes) for n in part.split()})

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending (``n:*`` always matches the highest UID,
        even one below ``n``: it is filtered out)."""
        return [u for u in self._search("UID", f"{last_uid + 1}:*") if u > last_uid]

    def highest_uid(self) -> int:
        """The highest UID in use now (0 for an empty folder)."""
        if self.uidnext:
            return self.uidnext - 1
        found = self._search("UID", "1:*")
        return found[-1] if found else 0

    def unseen_uids(self) -> list[int]:
        return self._search("UNSEEN")

    def size(self, uid: int) -> int | None:
        """The message's size in bytes (``RFC822.SIZE``), ``None`` when it is gone."""
        status, data = self._call("FETCH", str(uid), "(UID RFC822.SIZE)")
        if status != "OK":
            raise Unavailable(f"IMAP FETCH {uid} failed: {_text(data)}")
        for part in data:
            line = part[0] if isinstance(part, tuple) else part
            if not isinstance(line, bytes):
                continue
            found_uid = _UID_RE.search(line)
            found_size = _SIZE_RE.search(line)
            if found_size and (found_uid is None or int(found_uid.group(1)) == uid):
                return int(found_size.group(1))
        return None

    def fetch(self, uid: int, *, headers_only: bool = False) -> bytes | None:
        """The message's raw bytes (or only its header), ``None`` when it is gone
        (expunged meanwhile). ``PEEK``: fetching does not set ``\\Seen``."""
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        status, data = self._call("FETCH", str(uid), f"(UID {section})")
        if status != "OK":
            raise Unavailable(f"IMAP FETCH {uid} failed: {_text(data)}")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
                found = _UID_RE.search(part[0]) if isinstance(part[0], bytes) else None
                if found is None or int(found.group(1)) == uid:
                    return part[1]
        return None

    def mark_seen(self, uid: int) -> None:
        status, data = self._call("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
        if status != "OK":
            raise Unavailable(f"IMAP STORE {uid} failed: {_text(data)}")

    # IDLE -------------------------------------------------------------------------------

    def supports_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def idle(
        self,
        seconds: float,
        wake: socket.socket | None = None,
        on_idling: Callable[[], None] | None = None,
    ) -> IdleOutcome:
        """IDLE until the server announces a new message (``mail``: an ``EXISTS``, also one
        pending from before the command), ``seconds`` pass (``timeout``; RFC 2177 wants a
        new IDLE at least every 29 minutes) or ``wake`` becomes readable (``stopped``);
        then ``DONE``. ``on_idling`` is called once the server confirmed the IDLE.

        The connection is read directly here (imaplib has no IDLE before Python 3.14), so
        use it for IDLE only, beside the one that fetches."""
        conn = self._conn
        if conn is None:
            raise Unavailable("the IMAP connection is closed")
        self._idle_tag += 1
        tag = f"FLIDLE{self._idle_tag}".encode()
        sock = conn.socket()
        try:
            conn.send(tag + b" IDLE\r\n")
            outcome: IdleOutcome | None = None
            while True:
                line = self._idle_line(sock)
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    raise Unavailable(f"IMAP IDLE refused: {_text(line).strip()}")
                if _EXISTS_RE.match(line):
                    outcome = "mail"
            if on_idling is not None:
                on_idling()
            deadline = time.monotonic() + seconds
            while outcome is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    outcome = "timeout"
                    break
                if not self._idle_buffer and not _pending(sock):
                    watched = [sock] + ([wake] if wake is not None else [])
                    readable, _w, _x = select.select(watched, [], [], remaining)
                    if wake is not None and wake in readable:
                        outcome = "stopped"
                        break
                    if sock not in readable:
                        continue
                if _EXISTS_RE.match(self._idle_line(sock)):
                    outcome = "mail"
            conn.send(b"DONE\r\n")
            while True:
                line = self._idle_line(sock)
                if line.startswith(tag + b" "):
                    if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                        raise Unavailable(f"IMAP IDLE ended badly: {_text(line).strip()}")
                    return outcome
        except TimeoutError as exc:
            raise Timeout(f"IMAP IDLE timed out: {exc}") from exc
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise Unavailable(f"IMAP connection lost during IDLE: {exc}") from exc

    def _idle_line(self, sock: socket.socket) -> bytes:
        """One response line read straight from the socket (the connection's timeout
        applies: a silent server ends in :class:`TimeoutError`)."""
        while b"\n" not in self._idle_buffer:
            chunk = sock.recv(4096)
            if not chunk:
                raise Unavailable("the IMAP server closed the connection")
            self._idle_buffer += chunk
            if len(self._idle_buffer) > 1_000_000:
                raise Unavailable("the IMAP server sent an endless line")
        line, _nl, self._idle_buffer = self._idle_buffer.partition(b"\n")
        return line + b"\n"


def _pending(sock: socket.socket) -> int:
    """Bytes a TLS socket has decrypted but not handed out (select cannot see them)."""
    return sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
