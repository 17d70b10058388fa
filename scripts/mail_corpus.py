"""The messages popgate's tests, bench and demo store: the tricky corpus every gateway test runs
over (each message says what it catches), a deterministic big message, and friendly samples for
the demo. Raw bytes, as APPEND sends them. Standard library only."""


def _msg(subject, body, headers=b""):
    return (b"From: Sender <sender@example.net>\r\nTo: alice@example.org\r\n"
            b"Subject: " + subject + b"\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            b"Message-ID: <" + subject.replace(b" ", b"-") + b"@popgate.test>\r\n"
            + headers + b"\r\n" + body)


def big_message(megabytes=20):
    """Deterministic ~N MB message: 76-char lines, every 7th starting with '.'."""
    lines, size, n = [], 0, 0
    while size < megabytes * 1024 * 1024:
        text = b"line %08d " % n + b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV"[:61]
        line = (b"." + text[:-1] if n % 7 == 0 else text) + b"\r\n"
        lines.append(line)
        size += len(line)
        n += 1
    return _msg(b"big message", b"".join(lines))


def tricky_messages():
    """The corpus every gateway test runs over; comments say what each one catches."""
    return [
        _msg(b"normal", b"Hello Alice,\r\n\r\nthis is a plain message.\r\n\r\nBob\r\n"),
        # Dot-stuffing both ways: '.', '..' at line start, and a line that is only '.'.
        _msg(b"dots", b".hidden\r\n..double\r\n.\r\nafter the dot line\r\n...\r\n. space\r\n"),
        # No final CRLF: POP3 must add one before the terminating '.'.
        _msg(b"no final crlf", b"first line\r\nlast line without newline"),
        # Bare LF line endings throughout (headers too).
        (b"From: lf@example.net\nTo: alice@example.org\nSubject: bare lf\n\n"
         b"line one\nline two\n.dot line\n"),
        # 8-bit: Latin-1 and UTF-8 bytes in the body.
        _msg(b"eight bit", b"latin-1: caf\xe9 na\xefve\r\nutf-8: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\r\n",
             b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"),
        # One 10,000-character line (bigger than poplib's and many buffers' defaults).
        _msg(b"long line", b"x" * 9999 + b".\r\nshort\r\n"),
        # Headers, blank line, and nothing after it.
        _msg(b"empty body", b""),
        big_message(20),
        # A bare CR in the middle of a line is not a line break for POP3.
        _msg(b"bare cr", b"before\rafter on the same line\r\nnext line\r\n"),
    ]


def sample_messages():
    """A few friendly messages for the demo."""
    return [
        _msg(b"Welcome to popgate", b"Hi Alice,\r\n\r\nthis message came from IMAP and "
             b"reached you over POP3.\r\n\r\n-- popgate\r\n"),
        _msg(b"Lunch on Friday", b"Pizza at noon?\r\n"),
        _msg(b"Dots", b".a line starting with a dot\r\n.\r\nthe line above is a single dot\r\n"),
    ]
