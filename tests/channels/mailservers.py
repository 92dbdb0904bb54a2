"""Real mail servers for the mailbox tests: a private Debian dovecot (IMAP) and aiosmtpd.

The dovecot instance has its own configuration, port, runtime directory, passwd-file and
maildirs in a temporary folder; it runs in the foreground and is stopped after the session.
Each test gets a mailbox (user) of its own; dovecot re-reads the passwd-file when it
changes. Without dovecot the tests skip, unless ``FRONTLINE_REQUIRE_DOVECOT=1`` (CI), which
makes them fail.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
REQUIRED = os.environ.get("FRONTLINE_REQUIRE_DOVECOT") == "1"
PASSWORD = "s3cret-imap"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _ids() -> tuple[int, int, str, str]:
    """The uid/gid mail is stored as and the users dovecot's helpers run as: our own
    user, or under root (which dovecot refuses for these) its packaged users."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name
    internal = pwd.getpwnam("dovecot")
    login = pwd.getpwnam("dovenull")
    return internal.pw_uid, internal.pw_gid, internal.pw_name, login.pw_name


CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = frontline-test-{port}
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def write_certificate(root: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (dovecot's, and the one clients must trust:
    point ``SSL_CERT_FILE`` at the returned file)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (root / "key.pem").chmod(0o600)
    return root / "cert.pem"


@dataclass
class Dovecot:
    root: Path
    port: int
    tls_port: int
    uid: int
    gid: int
    process: subprocess.Popen[bytes] | None = None
    users: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    def add_user(self) -> str:
        name = f"u{uuid.uuid4().hex[:10]}"
        home = self.root / "home" / name
        home.mkdir(parents=True)
        os.chown(home, self.uid, self.gid)
        self.users.append(name)
        lines = [
            f"{u}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.root}/home/{u}"
            for u in self.users
        ]
        tmp = self.root / "passwd.new"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.root / "passwd")
        # dovecot looks at the passwd-file at most once a second: wait until it knows the user,
        # so neither the test nor the product's poller meets a stale user list
        self.connect(name).logout()
        return name

    def connect(self, user: str) -> imaplib.IMAP4:
        deadline = time.monotonic() + 5
        while True:
            conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            try:
                conn.login(user, PASSWORD)
                return conn
            except imaplib.IMAP4.error:
                conn.shutdown()  # never leave the socket to the garbage collector
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def append(self, user: str, raw: bytes, *, seen: bool = False, folder: str = "INBOX") -> int:
        """Put one message into the mailbox (IMAP APPEND); returns its UID."""
        conn = self.connect(user)
        try:
            status, data = conn.append(folder, "(\\Seen)" if seen else None, None, raw)
            assert status == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] if data and data[0] else b"")
            assert found, data
            return int(found.group(1))
        finally:
            conn.logout()

    def flags(self, user: str, uid: int, folder: str = "INBOX") -> str:
        conn = self.connect(user)
        try:
            conn.select(folder, readonly=True)
            status, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            assert status == "OK", data
            return str(data[0])
        finally:
            conn.logout()

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        conn = self.connect(user)
        try:
            conn.select(folder, readonly=True)
            _s, data = conn.response("UIDVALIDITY")
            return int(data[0])
        finally:
            conn.logout()

    def set_uidvalidity(self, user: str, value: int, folder: str = "INBOX") -> None:
        """What a server does when a folder is rebuilt: every UID becomes void."""
        subprocess.run(
            [
                DOVEADM,
                "-c",
                str(self.config),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(value),
                folder,
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_dovecot() -> Dovecot:
    if not os.path.exists(DOVECOT):
        raise FileNotFoundError(DOVECOT)
    # world-traversable: dovecot's unprivileged helpers reach their sockets in run/
    root = Path(tempfile.mkdtemp(prefix="frontline-dovecot-"))
    root.chmod(0o755)
    uid, gid, internal, login = _ids()
    port, tls_port = _free_port(), _free_port()
    write_certificate(root)
    internal_group = internal
    (root / "home").mkdir()
    (root / "home").chmod(0o755)
    (root / "passwd").write_text("")
    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root,
            port=port,
            tls_port=tls_port,
            internal=internal,
            internal_group=internal_group,
            login=login,
        )
    )
    server = Dovecot(root=root, port=port, tls_port=tls_port, uid=uid, gid=gid)
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(server.config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = root / "dovecot.log"
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("dovecot did not start listening")


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    try:
        server = start_dovecot()
    except (OSError, RuntimeError, KeyError) as exc:
        if REQUIRED:
            pytest.fail(f"FRONTLINE_REQUIRE_DOVECOT=1 but dovecot cannot run: {exc}")
        pytest.skip(f"dovecot not available: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
