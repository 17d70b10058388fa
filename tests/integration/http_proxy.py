"""A small HTTP forward proxy for tests (standard library only): CONNECT tunnels and absolute-form
plain-HTTP requests, with counters of what it did.

    proxy = HttpProxy().start()              # or HttpProxy(refuse_connect=True)
    ... "proxy: http://127.0.0.1:%d" % proxy.port ...
    proxy.connects, proxy.forwarded, proxy.targets, proxy.errors
    proxy.stop()

- CONNECT host:port: connects to the origin, answers `HTTP/1.1 200 Connection established`,
  then relays raw bytes both ways until either side closes (then closes both). With
  refuse_connect=True it answers `403 Forbidden` and closes. An origin that cannot be reached
  gets `502 Bad Gateway`.
- `METHOD http://host:port/path HTTP/1.x`: one origin connection per client connection. Each
  request head is read, its request line rewritten to origin form (`METHOD /path HTTP/1.x`),
  head and Content-Length body sent on; responses are relayed back as raw bytes by a second
  thread (so keep-alive and pipelined requests work without parsing responses). A later
  request on the same connection for another origin, a chunked request body, or an
  origin-form request is an error: counted in `errors`, and the connection is closed.
- source_address: the local address of the proxy's connections to origins (e.g. "127.0.0.2"),
  so that the origin's log tells proxied connections from direct ones.

Counters (read them any time; a lock keeps them consistent): `connects` = CONNECT tunnels
opened (200 sent), `refused` = CONNECTs answered 403, `forwarded` = absolute-form requests sent
on, `targets` = [(method, request target)] of every request received, in order.
"""

import socket
import threading

HEAD_LIMIT = 64 * 1024
IO_TIMEOUT_S = 120  # a relay idle that long is abandoned (tests are far shorter)


class ProxyError(Exception):
    pass


def _read_head(sock, buf):
    """(head bytes without the final CRLFCRLF, rest of buf) or (None, buf) at EOF before a
    complete head."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > HEAD_LIMIT:
            raise ProxyError(f"request head longer than {HEAD_LIMIT} bytes")
        data = sock.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _split_host_port(authority, default_port):
    host, sep, port = authority.rpartition(":")
    if not sep or "]" in port:
        return authority.strip("[]"), default_port
    return host.strip("[]"), int(port)


class HttpProxy:

    def __init__(self, host="127.0.0.1", refuse_connect=False, source_address=None):
        self.host = host
        self.refuse_connect = refuse_connect
        self.source_address = (source_address, 0) if source_address else None
        self.listener = None
        self.port = None
        self.connects = self.refused = self.forwarded = 0
        self.targets = []
        self.errors = []
        self._lock = threading.Lock()
        self._sockets = set()
        self._threads = []
        self._running = False

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self):
        self.listener = socket.create_server((self.host, 0))
        self.port = self.listener.getsockname()[1]
        self._running = True
        self._spawn(self._accept_loop, "http-proxy-accept")
        return self

    def stop(self):
        self._running = False
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)
        for thread in list(self._threads):
            thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def snapshot(self):
        """(connects, refused, forwarded, len(targets)): take one before a test step."""
        with self._lock:
            return self.connects, self.refused, self.forwarded, len(self.targets)

    def targets_since(self, snapshot):
        with self._lock:
            return list(self.targets[snapshot[3]:])

    # --- plumbing -------------------------------------------------------------------------

    def _spawn(self, target, name, *args):
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def _track(self, sock):
        sock.settimeout(IO_TIMEOUT_S)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _close(self, sock):
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _error(self, text):
        with self._lock:
            self.errors.append(text)

    def _origin(self, host, port):
        sock = socket.create_connection((host, port), timeout=10,
                                        source_address=self.source_address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._track(sock)

    def _accept_loop(self):
        while self._running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve, "http-proxy-conn", self._track(client))

    def _pump(self, src, dst):
        """Copies src to dst until EOF or an error on either, then closes both."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src)
            self._close(dst)

    # --- one client connection --------------------------------------------------------------

    def _serve(self, client):
        origin = None
        try:
            head, rest = _read_head(client, b"")
            if head is None:
                return
            parts = self._request_line(head)
            if parts[0] == "CONNECT":
                self._tunnel(client, parts[1], rest)
            else:
                origin = self._forward_loop(client, parts, head, rest)
        except (ProxyError, ValueError) as e:
            self._error(f"{type(e).__name__}: {e}")
        except OSError:
            pass  # a side closed (or stop()): the relay ends
        finally:
            self._close(client)
            if origin is not None:
                self._close(origin)

    def _request_line(self, head):
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3:
            raise ProxyError(f"bad request line {line!r}")
        with self._lock:
            self.targets.append((parts[0], parts[1]))
        return parts

    def _tunnel(self, client, target, rest):
        if self.refuse_connect:
            with self._lock:
                self.refused += 1
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                           b"Connection: close\r\n\r\n")
            return
        host, port = _split_host_port(target, 443)
        try:
            origin = self._origin(host, port)
        except OSError as e:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                           b"Connection: close\r\n\r\n")
            raise ProxyError(f"CONNECT {target}: {e}") from e
        with self._lock:
            self.connects += 1
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:  # bytes the client sent right behind the CONNECT head (a ClientHello)
            origin.sendall(rest)
        back = self._spawn(self._pump, "http-proxy-down", origin, client)
        self._pump(client, origin)
        back.join(IO_TIMEOUT_S)

    def _forward_loop(self, client, parts, head, rest):
        """Absolute-form requests on one client connection, all to one origin (`parts`: the
        first request line, already counted). Returns the origin socket (or None)."""
        origin = authority = None
        while True:
            method, target, version = parts
            if not target.startswith("http://"):
                raise ProxyError(f"not an absolute-form http request: {method} {target}")
            hostport, slash, path = target[len("http://"):].partition("/")
            path = slash + path if slash else "/"
            if origin is None:
                authority = hostport
                try:
                    origin = self._origin(*_split_host_port(hostport, 80))
                except OSError as e:
                    client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                    raise ProxyError(f"{method} {target}: {e}") from e
                self._spawn(self._pump, "http-proxy-resp", origin, client)
            elif hostport != authority:
                raise ProxyError(f"second origin {hostport} on a connection to {authority}")
            fields = head.split(b"\r\n")[1:]
            length = 0
            for field in fields:
                name, _, value = field.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"transfer-encoding":
                    raise ProxyError("chunked request bodies are not supported")
            while len(rest) < length:
                data = client.recv(65536)
                if not data:
                    raise ProxyError("client closed inside a request body")
                rest += data
            line = f"{method} {path} {version}".encode("latin-1")
            origin.sendall(b"\r\n".join([line] + fields) + b"\r\n\r\n" + rest[:length])
            with self._lock:
                self.forwarded += 1
            head, rest = _read_head(client, rest[length:])
            if head is None:
                return origin
            parts = self._request_line(head)
