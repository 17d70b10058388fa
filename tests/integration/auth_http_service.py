"""An auth_http service as nginx's mail proxy expects one (nginx.org, ngx_mail_auth_http_module),
for the tests of popgate's routing.lookup and of a real nginx in front of Dovecot: both must
accept it unchanged. Standard library only; importable, and runnable by hand:

    python3 auth_http_service.py --port 9000 --user alice:secret:127.0.0.1:110

What nginx sends, and so what this reads (checked against nginx 1.22's source):
- `GET <uri> HTTP/1.0` with Host, Auth-Method (plain, apop, cram-md5, ...), Auth-User, Auth-Pass,
  Auth-Salt (APOP and CRAM-MD5 only: the greeting's `<pid.clock@host>`), Auth-Protocol,
  Auth-Login-Attempt (1, 2, ... within a session), Client-IP; Client-Host only for SMTP.
- Auth-User and Auth-Pass are escaped: bytes 0x00-0x1F, space and `%` as %XX; 8-bit bytes raw.
- For APOP, Auth-Pass is the client's hex MD5(salt + password) (RFC 1939 section 7); for
  CRAM-MD5 it is the hex HMAC-MD5 keyed by the password over the salt (RFC 2195). nginx then has
  no password to log in upstream with: an OK must carry Auth-Pass (the plaintext password).

What it answers (headers only; nginx ignores the body and, in fact, the HTTP status):
- OK: `Auth-Status: OK`, `Auth-Server` (an IP address), `Auth-Port`, and `Auth-User` /
  `Auth-Pass` when the table names an upstream login (nginx uses them as sent, unescaped).
- Refused: `Auth-Status: <text>` and `Auth-Wait: <seconds>` (nginx waits that long before its
  `-ERR <text>` and keeps the session; without Auth-Wait it closes after the -ERR). As nginx's
  documentation asks, Auth-Wait stops after `max_attempts` so a session cannot retry forever.
- Controls for tests: `hang` (answer nothing while it is True), `fail_status` (answer
  that HTTP status with no Auth headers), and a request log with the decoded credentials.
"""

import argparse
import hashlib
import hmac
import http.server
import threading
from collections import namedtuple
from urllib.parse import unquote_to_bytes

# password: what the client must prove; server/port: where the mailbox is; upstream_user /
# upstream_pass: a login of the service's choosing for the upstream (None: the client's own).
Account = namedtuple("Account", "password server port upstream_user upstream_pass",
                     defaults=(None, None))

REFUSAL_TEXT = "Invalid login or password"


def header_bytes(value):
    """http.server decodes header lines as ISO-8859-1: back to the bytes that were sent."""
    return value.encode("iso-8859-1") if value is not None else None


def decode_credential(value):
    """Auth-User / Auth-Pass as nginx escaped them -> the client's bytes -> text (UTF-8)."""
    if value is None:
        return None
    return unquote_to_bytes(header_bytes(value)).decode("utf-8", errors="surrogateescape")


def to_header(text):
    """A header value from text: its UTF-8 bytes unchanged on the wire."""
    return text.encode("utf-8").decode("iso-8859-1")


class AuthHttpService:
    def __init__(self, accounts, *, host="127.0.0.1", port=0, refusal_text=REFUSAL_TEXT,
                 wait_s=1, max_attempts=10):
        self.accounts = dict(accounts)
        self.refusal_text = refusal_text
        self.wait_s = wait_s          # None: refusals without Auth-Wait (nginx closes)
        self.max_attempts = max_attempts
        self.fail_status = None       # e.g. 500: that status and no Auth headers
        self.requests = []            # one dict per request, in order of arrival
        self._lock = threading.Lock()
        self._hang = None             # an Event while `hang` is on
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive for HTTP/1.1 clients; 1.0 ones close

            def do_GET(self):  # noqa: N802 (http.server's naming)
                service._handle(self)

            def log_message(self, *args):  # never print credentials
                pass

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    def url(self, path="/auth"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.hang = False
        self._server.shutdown()
        self._server.server_close()

    @property
    def hang(self):
        """True: requests get no answer until hang is set False (or stop()); they then go on."""
        return self._hang is not None

    @hang.setter
    def hang(self, on):
        with self._lock:
            if on and self._hang is None:
                self._hang = threading.Event()
            elif not on and self._hang is not None:
                self._hang.set()
                self._hang = None

    def last_request(self):
        with self._lock:
            return self.requests[-1] if self.requests else None

    # --- the protocol -------------------------------------------------------------------

    def _handle(self, handler):
        h = handler.headers
        record = {
            "path": handler.path,
            "request_version": handler.request_version,
            "headers": {name: value for name, value in h.items()},
            "raw_user": header_bytes(h.get("Auth-User")),
            "raw_pass": header_bytes(h.get("Auth-Pass")),
            "user": decode_credential(h.get("Auth-User")),
            "pass": decode_credential(h.get("Auth-Pass")),
            "method": h.get("Auth-Method"),
            "salt": h.get("Auth-Salt"),
        }
        with self._lock:
            self.requests.append(record)
            gate = self._hang
        if gate is not None:
            gate.wait()
            return
        if self.fail_status:
            return self._answer(handler, [], status=self.fail_status)
        self._answer(handler, self._decide(record))

    def _decide(self, record):
        account = self.accounts.get(record["user"])
        if account is not None and self._proves(record, account):
            headers = [("Auth-Status", "OK"), ("Auth-Server", account.server),
                       ("Auth-Port", str(account.port))]
            if account.upstream_user is not None:
                headers.append(("Auth-User", to_header(account.upstream_user)))
            upstream_pass = account.upstream_pass
            if upstream_pass is None and record["method"] in ("apop", "cram-md5"):
                upstream_pass = account.password  # nginx has only a digest: it needs this
            if upstream_pass is not None:
                headers.append(("Auth-Pass", to_header(upstream_pass)))
            return headers
        headers = [("Auth-Status", self.refusal_text)]
        try:
            attempt = int(record["headers"].get("Auth-Login-Attempt", "1"))
        except ValueError:
            attempt = 1
        if self.wait_s is not None and attempt < self.max_attempts:
            headers.append(("Auth-Wait", str(self.wait_s)))
        return headers

    @staticmethod
    def _proves(record, account):
        method, given = record["method"], record["pass"] or ""
        secret = account.password.encode("utf-8")
        if method == "plain":
            return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), secret)
        salt = (record["salt"] or "").strip().encode("iso-8859-1")
        if not salt:
            return False
        if method == "apop":
            expected = hashlib.md5(salt + secret).hexdigest()
        elif method == "cram-md5":
            expected = hmac.new(secret, salt, hashlib.md5).hexdigest()
        else:
            return False
        return hmac.compare_digest(given.lower(), expected)

    @staticmethod
    def _answer(handler, headers, status=200):
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--user", action="append", default=[],
                        help="name:password:server:port (repeatable)")
    args = parser.parse_args()
    accounts = {}
    for spec in args.user:
        name, rest = spec.split(":", 1)
        password, server, port = rest.rsplit(":", 2)
        accounts[name] = Account(password, server, int(port))
    service = AuthHttpService(accounts, port=args.port).start()
    print(f"auth_http service on {service.url()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        service.stop()


if __name__ == "__main__":
    main()
