"""A scripted JMAP server (standard library only) for the faults a real Cyrus will not produce on
demand: a download cut in the middle, a download that stalls, an API that answers 500 or
429/503 with Retry-After, a deletion the server refuses for some ids. It speaks just enough of
RFC 8620/8621 for popgate's JMAP backend: the session resource, Mailbox/query, Email/query +
Email/get (one page), Email/set destroy, and blob downloads. What works is tested against Cyrus
(test_jmap.py); this is only for what breaks."""

import base64
import http.server
import json
import threading
import time

USER, PASSWORD = "alice", "secret"


class FakeJmap:
    def __init__(self, messages):
        self.messages = list(messages)       # raw bytes; Email id "E<n>", blob "B<n>"
        self.cut_download_after = None       # bytes of the body sent before the close
        self.stall_download = False          # headers, then nothing
        self.cut_once = {}                   # blob id -> bytes sent before the close, once
        self.downloads = []                  # blob ids in the order their downloads came
        self.api_status = None               # e.g. (500, {}) or (503, {"Retry-After": "0"})
        self.api_failures_left = 0           # how many API calls get api_status
        self.refuse_destroy = set()          # ids answered in notDestroyed
        self.destroyed = []
        self.api_calls = 0
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/jmap/"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, content_type="application/json", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def authorized(self):
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                return self.headers.get("Authorization") == expected

            def do_GET(self):
                if not self.authorized():
                    return self.reply(401, b"no", "text/plain")
                if self.path == "/jmap/":
                    return self.reply(200, json.dumps(fake.session()).encode())
                if self.path.startswith("/jmap/download/"):
                    return fake.download(self)
                self.reply(404, b"", "text/plain")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not self.authorized():
                    return self.reply(401, b"no", "text/plain")
                fake.api_calls += 1
                if fake.api_status and fake.api_failures_left > 0:
                    fake.api_failures_left -= 1
                    status, headers = fake.api_status
                    return self.reply(status, b"", "text/plain", headers)
                self.reply(200, json.dumps(fake.api(json.loads(body))).encode())

        return Handler

    def session(self):
        return {"capabilities": {"urn:ietf:params:jmap:core": {"maxObjectsInGet": 500},
                                 "urn:ietf:params:jmap:mail": {}},
                "primaryAccounts": {"urn:ietf:params:jmap:mail": USER},
                "apiUrl": "/jmap/api/", "state": "s1",
                "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}?accept={type}"}

    def api(self, request):
        responses, results = [], {}
        for name, args, call_id in request["methodCalls"]:
            if name == "Mailbox/query":
                answer = {"ids": ["Minbox"]}
            elif name == "Email/query":
                ids = [f"E{n}" for n in range(1, len(self.messages) + 1)]
                answer = {"ids": ids, "total": len(ids), "queryState": "q1", "position": 0}
            elif name == "Email/get":
                ids = results[args["#ids"]["resultOf"]].get("ids")
                if ids is None:  # the call it refers to failed (RFC 8620 §3.7)
                    results[call_id] = None
                    responses.append(["error", {"type": "invalidResultReference"}, call_id])
                    continue
                answer = {"list": [{"id": i, "blobId": "B" + i[1:],
                                    "size": len(self.messages[int(i[1:]) - 1])} for i in ids]}
            elif name == "Email/set":
                gone = [i for i in args["destroy"] if i not in self.refuse_destroy]
                self.destroyed += gone
                answer = {"destroyed": gone,
                          "notDestroyed": {i: {"type": "forbidden"} for i in args["destroy"]
                                           if i in self.refuse_destroy}}
            else:  # Email/queryChanges too: popgate must list the mailbox afresh
                results[call_id] = {}
                responses.append(["error", {"type": "unknownMethod"}, call_id])
                continue
            results[call_id] = answer
            responses.append([name, answer, call_id])
        return {"methodResponses": responses, "sessionState": "s1"}

    def download(self, handler):
        blob = handler.path.split("/")[4]
        raw = self.messages[int(blob[1:]) - 1]
        self.downloads.append(blob)
        cut = self.cut_once.pop(blob, self.cut_download_after)
        handler.send_response(200)
        handler.send_header("Content-Type", "message/rfc822")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        if self.stall_download:
            time.sleep(30)
            return
        if cut is not None:
            handler.wfile.write(raw[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(raw)
