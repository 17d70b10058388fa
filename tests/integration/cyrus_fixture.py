"""Gateway tests over a real Cyrus IMAP 3.6 (scripts/cyrus_sandbox.py): popgate with a `jmap`
backend on Cyrus's JMAP, and with an `imap` backend on the same Cyrus for comparison."""

import os

import popgate_fixture as pf
import cyrus_sandbox as cs  # popgate_fixture put scripts/ on the path


def jmap_config(sandbox, pop3_port, **backend):
    """The documented config shape with one `jmap` backend on the sandbox's JMAP (the default
    route) and the `imap` backend `local` on the same Cyrus."""
    config = pf.base_config(sandbox.imap_port, pop3_port)
    config["backends"]["jmap"] = dict({"type": "jmap", "url": sandbox.jmap_url}, **backend)
    config["routing"]["default_backend"] = "jmap"
    return config


def imap_config(sandbox, pop3_port):
    return pf.base_config(sandbox.imap_port, pop3_port)


class CyrusGatewayTestCase(pf.GatewayTestCase):
    """GatewayTestCase on a Cyrus sandbox; the gateway's default route is JMAP."""

    @classmethod
    def make_sandbox(cls):
        return cs.Sandbox(os.path.join(cls.workdir, "cyrus")).start()

    @classmethod
    def gateway_config(cls):
        return jmap_config(cls.sandbox, cs.free_port())

    def connect_cyrus_pop3(self, user):
        """Cyrus's own pop3d on the same mailbox, logged in: the reference."""
        conn = pf.RawPop3(self.sandbox.pop3_port)
        self.addCleanup(conn.close)
        reply = conn.login(*user)
        self.assertTrue(reply.startswith(b"+OK"), f"Cyrus pop3d login: {reply!r}")
        return conn

    def imap_subjects(self, user, mailbox="INBOX"):
        """The Subject lines in a mailbox, over IMAP: what is really left upstream."""
        conn = self.sandbox.imap(*user)
        try:
            typ, data = conn.select(mailbox, readonly=True)
            self.assertEqual(typ, "OK", data)
            if int(data[0]) == 0:
                return []
            typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            return [part[1].strip().decode() for part in data if isinstance(part, tuple)]
        finally:
            conn.logout()
