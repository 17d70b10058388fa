#!/usr/bin/env python3
"""Writes the seed inputs of fuzz/corpus/ (run it again after changing FuzzInput's format).

Each target reads its input as FuzzInput does: chunk() takes a length byte (the value + 1, up
to 64) and then that many bytes, so a seed is a transcript cut into chunks of a few sizes."""
import base64
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def chunks(data, sizes=(64, 7, 1, 33)):
    out, i, k = bytearray(), 0, 0
    while i < len(data):
        n = min(sizes[k % len(sizes)], len(data) - i)
        out.append(n - 1)
        out += data[i:i + n]
        i, k = i + n, k + 1
    return bytes(out)


def pop3(data, mode=0):
    """pop3_command: before each chunk a mode byte (odd: SASL lines, 0xFF: STLS discard)."""
    out, i = bytearray(), 0
    while i < len(data):
        n = min(40, len(data) - i)
        out.append(mode)
        out.append(n - 1)
        out += data[i:i + n]
        i += n
    return bytes(out)


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


plain = base64.b64encode(b"\0alice\0secret")
write("pop3_command", "session", pop3(
    b"CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\n"
    b"RETR 1\r\nTOP 1 10\r\nDELE 1\r\nRSET\r\nNOOP\r\nLAST\r\nQUIT\r\n"))
write("pop3_command", "bad", pop3(
    b"\r\n \r\nuser\0x\r\nVERYLONGVERB x\r\nLIST  1\r\nRETR -1\r\nTOP 1 999999999999\r\n"
    + b"X" * 300 + b"\r\nNOOP\nnoop\r\n"))
write("pop3_command", "sasl", pop3(b"AUTH PLAIN\r\n") + pop3(plain + b"\r\n*\r\n=\r\n", 1))
write("pop3_command", "sasl_bearer", pop3(
    b"AUTH XOAUTH2 " + base64.b64encode(b"user=u\x01auth=Bearer t0k\x01\x01") + b"\r\n"
    b"AUTH OAUTHBEARER\r\n") + pop3(
    base64.b64encode(b"n,a=u=2Cv,\x01host=h\x01port=1\x01auth=Bearer t==\x01\x01") + b"\r\n"
    + base64.b64encode(b"u 0123456789abcdef0123456789ABCDEF") + b"\r\n\x01\r\n", 1)
    + pop3(b"APOP u 0123456789abcdef0123456789abcdef\r\nAUTH X " + b"Q" * 400 + b"\r\n"))
write("pop3_command", "stls", pop3(b"STLS\r\nUSER injected\r\n") + pop3(b"CAPA\r\n", 0xFF))

dovecot = (
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    b"AUTH=PLAIN] Dovecot ready.\r\n"
    b"a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in\r\n"
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    b"* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n* 3 EXISTS\r\n* 0 RECENT\r\n"
    b"* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 8] Predicted next UID\r\n"
    b"a2 OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).\r\n"
    b"* 1 FETCH (UID 3 RFC822.SIZE 120)\r\n* 2 FETCH (RFC822.SIZE 200 UID 5)\r\n"
    b"* 3 FETCH (UID 7 RFC822.SIZE 3000)\r\na3 OK Fetch completed.\r\n")
body = b"Subject: x\r\n\r\n.dot\r\nline\r\n"
write("imap_response", "login_snapshot", b"\x01" + chunks(dovecot))
write("imap_response", "body", b"\x02" + chunks(
    b"* 3 FETCH (UID 7 BODY[] {%d}\r\n" % len(body) + body + b")\r\na4 OK Fetch completed.\r\n"
    b"* 3 FETCH (UID 7 BODY[HEADER] {12}\r\nSubject: x\r\n BODY[TEXT]<0> \"line\")\r\n"
    b"a5 OK done\r\n* 3 FETCH (BODY[] NIL UID 7)\r\na6 NO [NONEXISTENT] gone\r\n"))
write("imap_response", "odd", b"\x03" + chunks(
    b"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM TO)] {0}\r\n)\r\n+ go ahead\r\n"
    b"* BYE [UNAVAILABLE] shutting down\r\n* 2 FETCH ((((( \"unterminated\r\n"
    b"* 4294967296 EXISTS\r\n* 1 FETCH (UID 99999999999 RFC822.SIZE 18446744073709551616)\r\n"
    b"a7 BAD {5+}\r\nabcde\r\n"))

def session(steps, flags=1):
    """session: a flags byte, then steps: ("c", bytes) client input; ("ok", b) / ("fail", b)
    the store completes its operation (b: an open's message count byte, a body step's chunk);
    ("congest",) toggles the client's congestion; ("tls",) completes STLS; ("loop",) runs what the
    loop has queued (the login steps: authentication, then the mailbox lock); ("drain",) and
    ("drain_timeout",) are the server's graceful drain starting and running out."""
    out = bytearray([flags])  # 1: STLS offered, plain, login allowed without TLS
    for step in steps:
        if step[0] == "c":
            for i in range(0, len(step[1]), 40):
                piece = step[1][i:i + 40]
                out += bytes([0, len(piece) - 1]) + piece
        elif step[0] == "ok":
            out += bytes([4]) + step[1]
        elif step[0] == "loop":
            out += bytes([3])
        elif step[0] == "fail":
            out += bytes([5]) + step[1]
        elif step[0] == "congest":
            out += bytes([6])
        elif step[0] == "tls":
            out += bytes([7])
        elif step[0] == "drain":
            out += bytes([0x47])
        elif step[0] == "drain_timeout":
            out += bytes([0x67])
    return bytes(out)


def body_chunk(data):
    return bytes([1, len(data) - 1]) + data


write("session", "retr_dele_quit", session([
    ("c", b"CAPA\r\nUSER alice\r\nPASS secret\r\n"), ("loop",), ("ok", b"\x03"), ("loop",),
    ("c", b"STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\n"), ("ok", b""),
    ("ok", body_chunk(b"Subject: x\r\n\r\n.dot\r\n")), ("ok", b"\x00"),
    ("c", b"TOP 2 1\r\nDELE 1\r\nQUIT\r\n"), ("ok", b""), ("ok", b"\x00"), ("ok", b"")]))
write("session", "failures", session([
    ("c", b"USER !nobody\r\nPASS x\r\nUSER bob\r\nPASS y\r\n"), ("loop",), ("loop",),
    ("fail", b"\x01"),
    ("c", b"AUTH PLAIN\r\n"), ("c", b"AGJvYgB5\r\n"), ("loop",), ("ok", b"\x02"), ("loop",),
    ("c", b"RETR 2\r\n"), ("ok", b""), ("fail", b""), ("c", b"NOOP\r\n")]))
write("session", "drain", session([
    ("c", b"USER dana\r\nPASS w\r\n"), ("drain",), ("loop",), ("ok", b"\x02"), ("loop",),
    ("c", b"DELE 1\r\nRETR 2\r\n"), ("ok", b""), ("drain",), ("ok", body_chunk(b"b" * 30)),
    ("drain_timeout",), ("c", b"QUIT\r\n")]))
write("session", "sasl_apop", session([  # flags 8, 16: APOP/CRAM-MD5 and bearer tokens
    ("c", b"AUTH XOAUTH2 " + base64.b64encode(b"user=!u\x01auth=Bearer t\x01\x01") + b"\r\n"),
    ("loop",), ("c", b"\r\nAUTH CRAM-MD5\r\n" + base64.b64encode(b"u " + b"a" * 32) + b"\r\n"),
    ("loop",), ("ok", b"\x02"), ("loop",), ("c", b"CAPA\r\nQUIT\r\n")], flags=1 | 8 | 16))
write("session", "stls", session([("c", b"STLS\r\nCAPA\r\n"), ("tls",), ("c", b"CAPA\r\n")]))
write("session", "congested", session([
    ("c", b"USER carol\r\nPASS z\r\n"), ("loop",), ("ok", b"\x02"), ("loop",), ("congest",),
    ("c", b"RETR 1\r\nRETR 2\r\n"), ("ok", b""), ("ok", body_chunk(b"a" * 60)),
    ("congest",), ("ok", b"\x00"), ("c", b"QUIT\r\n")]))

def http(flags, seed, wire):
    """http_response: a flags byte (bit 0: a response to HEAD; the high nibble: TOP's line
    count), a byte that seeds the cuts and pauses, then the server's bytes."""
    return bytes([flags, seed]) + wire


write("http_response", "keepalive", http(0x10, 7,
    b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\nSubject: x\r\n\r\nline\r\n.\r\n"
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n"
    b"HTTP/1.0 200 OK\r\n\r\nclose-delimited body"))
write("http_response", "errors", http(0x01, 200,
    b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"))
write("http_response", "cut", http(0x20, 1,
    b"HTTP/1.1 200 OK\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 100\r\n\r\nshort"))

def http_request(seed, wire):
    """http_request: a byte that seeds the cuts, then the client's bytes."""
    return bytes([seed]) + wire


write("http_request", "scrape", http_request(3,
    b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9110\r\nUser-Agent: Prometheus/2.42.0\r\n"
    b"Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n\r\nGET /readyz HTTP/1.1\r\n\r\n"))
write("http_request", "body", http_request(90,
    b"POST /healthz?x=1 HTTP/1.0\r\nContent-Length: 4\r\nX: a\r\n  folded\r\n\r\nbody"))
write("http_request", "chunked", http_request(17,
    b"PUT /readyz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
write("http_request", "not_http", http_request(1, b"USER alice\r\nPASS x\r\n"))

write("dot_stuffer", "message", chunks(
    b"Return-Path: <a@example.org>\r\nSubject: dots\n\r\n.leading\r\n..two\n.\r\n"
    b"bare\rcr\r\n\n. \nend."))
write("dot_stuffer", "base64", chunks(
    (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n" * 8),
    sizes=(64, 64, 63, 1)))


# proxy_header: HAProxy's headers (proxy-protocol.txt), cut into chunks.
V2 = b"\r\n\r\n\0\r\nQUIT\n"
write("proxy_header", "v1_tcp4", chunks(b"PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\r\nCAPA\r\n"))
write("proxy_header", "v1_tcp6", chunks(b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 110\r\n"))
write("proxy_header", "v1_unknown", chunks(b"PROXY UNKNOWN\r\n", (3, 1)))
write("proxy_header", "v2_inet_tlvs", chunks(
    V2 + b"\x21\x11\x00\x16" + bytes([192, 0, 2, 1, 198, 51, 100, 7, 0x9c, 0x40, 0, 110])
    + b"\x05\x00\x03abc" + b"\x20\x00\x01\x01" + b"USER alice\r\n", (5, 16, 1)))
write("proxy_header", "v2_inet6", chunks(
    V2 + b"\x21\x21\x00\x24" + bytes(15) + b"\x01" + bytes(15) + b"\x02\x01\x02\x00\x6e"))
write("proxy_header", "v2_local", chunks(V2 + b"\x20\x00\x00\x00"))
