"""A small OAuth2 authorization server for the tests (standard library only).

    with TokenService(clients={"popgate": "s3cret"},
                      refresh_tokens={"rt-alice": "alice"}) as service:
        service.token_url            # POST grant_type=client_credentials | refresh_token
        service.introspection_url    # what Dovecot's oauth2 passdb asks (dovecot_sandbox)
        token = service.issue("alice")          # or app-only: service.issue(None)

What it assumes from the RFCs:
- RFC 6749 §4.4 client credentials and §6 refresh: a POST form to /token; the client
  authenticates with HTTP Basic (§2.3.1, preferred) or client_id/client_secret in the body.
  The answer is JSON {access_token, token_type "Bearer", expires_in[, refresh_token, scope]};
  errors are 400 {"error": "invalid_grant" | "invalid_client" | "unsupported_grant_type" ...}
  (§5.2; invalid_client is 401 when Basic was used). With rotate_refresh, a refresh answer
  carries a new refresh_token and the old one stops working (§6, §10.4).
- Access tokens are opaque random strings; only this service knows what they mean.
- RFC 7662 token introspection at /introspect: the token comes as the form field `token`
  (Dovecot's introspection_mode = post), in the query (mode get: the URL ends in "token="), or
  as "Authorization: Bearer" (mode auth). The answer is 200 JSON: {"active": false} for an
  unknown, expired or revoked token, else active true with username, sub, client_id, scope,
  exp. A user's token names its user. An app-only token (client credentials, as Microsoft
  365 issues for IMAP) is valid for every mailbox: its answer names the user that the query
  parameter `user` asks about, else `app_only_user`, else none.
Dovecot 2.3.19's oauth2 passdb (tested here): introspection_mode = post works; the answer must
name the login user in username_attribute (another user: AUTHENTICATIONFAILED; none at all:
"No username returned", answered [UNAVAILABLE]); {"active": false} with active_attribute =
active, active_value = true is AUTHENTICATIONFAILED. introspection_url is not expanded (a %u
makes an invalid URL, and the auth process panics), so Dovecot cannot tell the service which
mailbox an app-only token is used for: set app_only_user to the user a test logs in as.
Test controls: fail_next(n, "500" | "invalid_grant"), hang_next(n) / release(), revoke(token),
expire(token), and the counters in `requests` ("client_credentials", "refresh_token",
"introspect", plus "token" for every /token request).
"""

import base64
import collections
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


class TokenService:
    def __init__(self, clients=None, refresh_tokens=None, expires_in=3600, rotate_refresh=False,
                 scope="https://outlook.office365.com/.default"):
        self.clients = dict(clients or {})                 # client_id -> client_secret
        self.refresh_tokens = dict(refresh_tokens or {})   # refresh token -> user
        self.expires_in, self.rotate_refresh, self.scope = expires_in, rotate_refresh, scope
        self.tokens = {}  # access token -> {"user", "client_id", "exp", "revoked"}
        # Dovecot 2.3.19 cannot say which user it asks about (below): the user an app-only
        # token's answer names, for a test that logs in as that user.
        self.app_only_user = None
        self.requests = collections.Counter()
        self.introspections = []  # (token, user asked about) per /introspect
        self._failures = collections.deque()  # kinds of the next token requests to fail
        self._hangs = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = self._thread = None

    # --- life cycle -------------------------------------------------------------------

    def start(self):
        service = self

        class Handler(_Handler):
            owner = service

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.release()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return f"http://{HOST}:{self.port}"

    @property
    def token_url(self):
        return self.base_url + "/token"

    @property
    def introspection_url(self):
        return self.base_url + "/introspect"

    # --- test controls ----------------------------------------------------------------

    def issue(self, user, client_id="test", expires_in=None):
        """A new access token for `user`, or an app-only one for every user (user None)."""
        token = secrets.token_urlsafe(32)
        lifetime = self.expires_in if expires_in is None else expires_in
        with self._lock:
            self.tokens[token] = {"user": user, "client_id": client_id,
                                  "exp": time.time() + lifetime, "revoked": False}
        return token

    def revoke(self, token):
        with self._lock:
            self.tokens[token]["revoked"] = True

    def expire(self, token):
        with self._lock:
            self.tokens[token]["exp"] = time.time() - 1

    def fail_next(self, count=1, kind="500"):
        """The next `count` /token requests fail: HTTP 500, or 400 invalid_grant."""
        assert kind in ("500", "invalid_grant"), kind
        with self._lock:
            self._failures.extend([kind] * count)

    def hang_next(self, count=1):
        """The next `count` /token requests get no answer until release() (or stop())."""
        with self._lock:
            self._hangs += count
            self._released.clear()

    def release(self):
        self._released.set()

    def refresh_token_for(self, user):
        """The refresh token currently valid for `user` (it changes with rotate_refresh)."""
        with self._lock:
            return next((rt for rt, u in self.refresh_tokens.items() if u == user), None)

    # --- protocol ----------------------------------------------------------------------

    def active(self, token, asked_user):
        """RFC 7662 §2.2 answer for `token`."""
        with self._lock:
            entry = self.tokens.get(token)
            self.requests["introspect"] += 1
            self.introspections.append((token, asked_user))
        if entry is None or entry["revoked"] or entry["exp"] <= time.time():
            return {"active": False}
        user = entry["user"]
        if user is None:
            user = asked_user or self.app_only_user
        answer = {"active": True, "client_id": entry["client_id"], "scope": self.scope,
                  "exp": int(entry["exp"]), "token_type": "Bearer"}
        if user:
            answer.update(username=user, sub=user)
        return answer

    def grant(self, form, basic):
        """(status, JSON body) for a /token request."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.requests["token"] += 1
            self.requests[grant_type] += 1
            failure = self._failures.popleft() if self._failures else None
            hang = self._hangs > 0
            self._hangs -= 1 if hang else 0
        if hang:
            self._released.wait()
        if failure == "500":
            return 500, {"error": "server_error"}
        if failure == "invalid_grant":
            return 400, {"error": "invalid_grant", "error_description": "test: told to fail"}
        if grant_type == "client_credentials":
            client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
            if client_id is None or self.clients.get(client_id) != secret:
                return (401 if basic else 400), {"error": "invalid_client"}
            return 200, self._answer(self.issue(None, client_id))
        if grant_type == "refresh_token":
            old = form.get("refresh_token", "")
            with self._lock:
                user = self.refresh_tokens.get(old)
                if user is not None and self.rotate_refresh:
                    new = secrets.token_urlsafe(24)
                    del self.refresh_tokens[old]
                    self.refresh_tokens[new] = user
            if user is None:
                return 400, {"error": "invalid_grant", "error_description": "unknown refresh token"}
            answer = self._answer(self.issue(user, basic[0] if basic else form.get("client_id")))
            if self.rotate_refresh:
                answer["refresh_token"] = new
            return 200, answer
        return 400, {"error": "unsupported_grant_type"}

    def _answer(self, token):
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in,
                "scope": self.scope}


class _Handler(BaseHTTPRequestHandler):
    owner = None  # the TokenService, set by a subclass per server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # quiet tests

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _form(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return dict(urllib.parse.parse_qsl(body, keep_blank_values=True))

    def _basic(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            text = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        client_id, _, secret = text.partition(":")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)

    def _introspect(self, form):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        token = form.get("token") or query.get("token")
        header = self.headers.get("Authorization", "")
        if not token and header.startswith("Bearer "):
            token = header[7:]
        self._send(200, self.owner.active(token or "", query.get("user")))

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/introspect":
            return self._introspect({})
        self._send(404, {"error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        form = self._form()
        if path == "/introspect":
            return self._introspect(form)
        if path == "/token":
            return self._send(*self.owner.grant(form, self._basic()))
        self._send(404, {"error": "not_found"})
