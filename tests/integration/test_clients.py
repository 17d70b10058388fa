"""Real POP3 clients download the tricky corpus through the gateway, byte-exact.

Expected bytes are what was APPENDed, turned into the POP3 wire form (pf.pop3_form), then put
through what the client itself does to a message (each *_form function below says what, as
observed against Dovecot's own POP3). Client options that add headers are turned off.
"""

import collections
import os
import poplib
import re
import subprocess
import unittest

import popgate_fixture as pf
from dovecot_sandbox import ALICE, tricky_messages

CLIENT_TIMEOUT_S = pf.CLIENT_TIMEOUT_S


def lf_form(raw):
    """fetchmail and mpop deliver with LF line ends."""
    return pf.pop3_form(raw).replace(b"\r\n", b"\n")


def fetchmail_form(raw):
    """fetchmail 6.4 also drops every bare CR, and its 8 KiB line buffer cuts longer lines:
    after 8191 bytes it writes NUL, one byte of garbage (uninitialised memory), LF, and goes
    on with the rest of the line. The garbage byte is '?' here; see fetchmail_normalise()."""
    out = []
    for line in lf_form(raw).replace(b"\r", b"").split(b"\n")[:-1]:
        while len(line) > 8191:
            out.append(line[:8191] + b"\x00?")
            line = line[8191:]
        out.append(line)
    return b"\n".join(out) + b"\n"


def fetchmail_normalise(delivered):
    """The garbage byte after fetchmail's NUL becomes '?' (the corpus has no NUL bytes). It is
    sometimes missing (seen under load and under valgrind): NUL then LF becomes the same."""
    return re.sub(rb"\x00.?\n", b"\x00?\n", delivered, flags=re.S)


def getmail_form(raw):
    """getmail6 delivers with LF line ends too, and its Maildir destination always prepends a
    Return-Path header (POP3 carries no envelope sender, so it is <unknown>). Python's line
    splitting in getmail also turns a bare CR into a line end."""
    return b"Return-Path: <unknown>\n" + lf_form(raw).replace(b"\r", b"\n")


def read_files(directory, names):
    out = []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            out.append(f.read())
    return out


class ClientsTest(pf.GatewayTestCase):

    @classmethod
    def seed_mail(cls):
        cls.messages = tricky_messages()
        cls.sandbox.seed(*ALICE, cls.messages)

    def test_poplib(self):
        # poplib refuses lines over _MAXLINE (2048): the corpus has a 10,000-byte line.
        self.addCleanup(setattr, poplib, "_MAXLINE", poplib._MAXLINE)
        poplib._MAXLINE = 1 << 20
        pf.wait_until_free(self.port, *ALICE)
        pop = poplib.POP3(pf.HOST, self.port, timeout=pf.IO_TIMEOUT_S)
        self.addCleanup(pop.close)
        pop.user(ALICE[0])
        pop.pass_(ALICE[1])
        count, _ = pop.stat()
        got = []
        for n in range(1, count + 1):
            _, lines, _ = pop.retr(n)
            got.append(b"".join(line + b"\r\n" for line in lines))
        pop.quit()
        self.assertMessages([pf.pop3_form(m) for m in self.messages], got, "poplib")

    def curl(self, path, *options):
        url = f"pop3://{ALICE[0]}:{ALICE[1]}@{pf.HOST}:{self.port}/{path}"
        rc, out, err = self.run_client(["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT_S),
                                        *options, url])
        self.assertEqual(rc, 0, f"curl {path}: {err!r}")
        return out

    def test_curl(self):
        pf.wait_until_free(self.port, *ALICE)
        listing = b"".join(b"%d %d\r\n" % (n, len(pf.stored_form(m)))
                           for n, m in enumerate(self.messages, 1))
        self.assertEqual(self.curl(""), listing)
        got = [self.curl(str(n)) for n in range(1, len(self.messages) + 1)]
        self.assertMessages([pf.pop3_form(m) for m in self.messages], got, "curl")

    def test_curl_each_login_method(self):
        # RFC 5034 AUTH with PLAIN and LOGIN logs in for real (USER/PASS: the other clients).
        for method in ("AUTH=PLAIN", "AUTH=LOGIN"):
            pf.wait_until_free(self.port, *ALICE)
            self.assertEqual(self.curl("1", "--login-options", method),
                             pf.pop3_form(self.messages[0]), method)

    def fetchmail(self, idfile, outdir):
        deliver = os.path.join(self.workdir, "deliver.py")
        with open(deliver, "w") as f:  # fetchmail runs the MDA once per message, in order
            f.write("import os, sys\nd = sys.argv[1]\n"
                    "with open(os.path.join(d, '%06d' % (len(os.listdir(d)) + 1)), 'wb') as f:\n"
                    "    f.write(sys.stdin.buffer.read())\n")
        rc = (f"set invisible\n"  # no Received: header
              f"poll {pf.HOST} service {self.port} protocol pop3 uidl timeout 120\n"
              f'  user "{ALICE[0]}" there with password "{ALICE[1]}" is "root" here\n'
              f"  keep no rewrite sslproto ''\n"
              f'  mda "/usr/bin/python3 {deliver} {outdir}"\n')
        home = self.tmpdir(f"fetchmail-home-{len(os.listdir(outdir))}")
        env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
        # As root, fetchmail's lock is /var/run/fetchmail.pid: shared with any other test run.
        return self.run_client(["fetchmail", "-f", "-", "--nodetach", "--nosyslog", "-i", idfile,
                                "--pidfile", os.path.join(home, "fetchmail.pid")],
                               rc.encode(), env)

    def test_fetchmail(self):
        pf.wait_until_free(self.port, *ALICE)
        outdir, idfile = self.tmpdir("fetchmail-out"), os.path.join(self.workdir, "fetchids")
        rc, out, err = self.fetchmail(idfile, outdir)
        self.assertEqual(rc, 0, f"fetchmail: {out!r} {err!r}")
        got = [fetchmail_normalise(m) for m in read_files(outdir, sorted(os.listdir(outdir)))]
        self.assertMessages([fetchmail_form(m) for m in self.messages], got, "fetchmail")
        # Leave-on-server: the UIDLs are known now, so nothing is new (exit code 1).
        rc, out, err = self.fetchmail(idfile, outdir)
        self.assertEqual(rc, 1, f"second fetchmail run: {out!r} {err!r}")
        self.assertEqual(len(os.listdir(outdir)), len(self.messages))

    def mpop(self, uidls, maildir):
        pf.wait_until_free(self.port, *ALICE)
        return self.run_client([
            "mpop", "-q", "-C", "/dev/null", f"--host={pf.HOST}", f"--port={self.port}",
            f"--user={ALICE[0]}", f"--passwordeval=echo '{ALICE[1]}'", "--tls=off",
            "--auth=user", "--keep=on", "--only-new=on", f"--uidls-file={uidls}",
            f"--delivery=maildir,{maildir}", "--received-header=off"])

    def test_mpop(self):
        maildir, uidls = self.tmpdir("mpop-maildir"), os.path.join(self.workdir, "mpop-uidls")
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(maildir, sub))
        new = os.path.join(maildir, "new")
        rc, out, err = self.mpop(uidls, maildir)
        self.assertEqual(rc, 0, f"mpop: {out!r} {err!r}")
        # Maildir names carry a per-run counter (...Q<n>.host): sort on it for message order.
        names = sorted(os.listdir(new), key=lambda f: int(re.search(r"Q(\d+)", f).group(1)))
        got = read_files(new, names)
        self.assertMessages([lf_form(m) for m in self.messages], got, "mpop")
        rc, out, err = self.mpop(uidls, maildir)
        self.assertEqual(rc, 0, f"second mpop run: {out!r} {err!r}")
        self.assertEqual(collections.Counter(os.listdir(new)), collections.Counter(names),
                         "second mpop run delivered again")

    def getmail(self, getmaildir, maildir):
        # getmail6 will not deliver as root: the maildir belongs to nobody, who delivers.
        rc_text = (f"[retriever]\ntype = SimplePOP3Retriever\nserver = {pf.HOST}\n"
                   f"port = {self.port}\nusername = {ALICE[0]}\npassword = {ALICE[1]}\n"
                   f"[destination]\ntype = Maildir\npath = {maildir}/\nuser = nobody\n"
                   f"[options]\nread_all = false\ndelete = false\nreceived = false\n"
                   f"delivered_to = false\nmessage_log_verbose = false\nverbose = 0\n")
        rcfile = os.path.join(getmaildir, "getmailrc")
        with open(rcfile, "w") as f:
            f.write(rc_text)
        pf.wait_until_free(self.port, *ALICE)
        return self.run_client(["getmail", "--getmaildir", getmaildir, "--rcfile", rcfile])

    def test_getmail(self):
        getmaildir, maildir = self.tmpdir("getmail-state"), self.tmpdir("getmail-maildir")
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(maildir, sub))
        subprocess.run(["chown", "-R", "nobody", maildir], check=True)
        os.chmod(self.workdir, 0o755)
        rc, out, err = self.getmail(getmaildir, maildir)
        self.assertEqual(rc, 0, f"getmail: {out!r} {err!r}")
        new = os.path.join(maildir, "new")
        names = os.listdir(new)
        self.assertEqual(len(names), len(self.messages), f"getmail: {out!r} {err!r}")
        # getmail names files by time, not order: compare as multisets of contents.
        got = sorted(read_files(new, names))
        want = sorted(getmail_form(m) for m in self.messages)
        self.assertMessages(want, got, "getmail")
        rc, out, err = self.getmail(getmaildir, maildir)
        self.assertEqual(rc, 0, f"second getmail run: {out!r} {err!r}")
        self.assertEqual(len(os.listdir(new)), len(self.messages), "second getmail run delivered again")


if __name__ == "__main__":
    unittest.main()
