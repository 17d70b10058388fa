"""`state: redis`: two popgate replicas share the mailbox locks through a real redis-server
(started here on a free port, its own dir, no persistence, a password), addressed directly and
through a real HAProxy (roundrobin, send-proxy-v2).

- one session per mailbox across replicas: a second login through the other gets [IN-USE];
- a replica killed with SIGKILL mid-session deletes nothing upstream (no QUIT, no commit) and
  its lease expires (lease_s: 2): the user logs in again through the other replica;
- Redis paused (SIGSTOP): a login gets [SYS/TEMP] once connect_timeout_s has passed;
- Redis stopped: a new login gets [SYS/TEMP], while a session already in progress goes on and
  its QUIT commits (deletion by UID stays safe without the lease);
- the failed-login records and LOGIN-DELAY are shared too (SharedThrottleTest): wrong passwords
  through one replica get the client's address refused by the other, and a login through one
  replica starts LOGIN-DELAY on the other.
"""

import os
import signal
import subprocess
import time

import popgate_fixture as pf
from dovecot_sandbox import ALICE, BOB, die_with_parent, free_port
from haproxy_fixture import HaProxy
from portwait import wait_for_port

REDIS_PASSWORD = "redis-test-secret"
COUNT = 3
LEASE_S = 2
RETRY_S = 30  # bound on waiting for a lease to expire or a replica to reconnect
REFUSE_AFTER = 3  # SharedThrottleTest's failed_logins.refuse_after


def message(n):
    return (b"From: a@example.net\r\nTo: alice@example.org\r\nSubject: redis %d\r\n"
            b"Message-ID: <redis-%d@popgate.test>\r\n\r\nbody %d\r\n" % (n, n, n))


class RedisServer:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "redis.log")

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return "(no redis log)"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", pf.HOST, "--port", str(self.port), "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--requirepass", REDIS_PASSWORD,
             "--logfile", self.log_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        if not wait_for_port(self.port, pf.START_TIMEOUT_S, host=pf.HOST, proc=self.proc):
            raise RuntimeError("redis-server did not start")
        return self

    def stop(self):
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def start_redis(cls):
    """The test class's redis-server (once; stopped with its gateways) and its password file,
    `redis.password` in the class's workdir."""
    if cls.redis is not None:
        return
    pf.add_secret(REDIS_PASSWORD)
    cls.redis = RedisServer(cls.workdir).start()
    cls.gateways.append(cls.redis)
    with open(os.path.join(cls.workdir, "redis.password"), "w") as f:
        f.write(REDIS_PASSWORD + "\n")


def login_when_available(port, user, password):
    """A logged-in RawPop3, retrying [IN-USE] (a lease not yet expired) and [SYS/TEMP] (a replica
    reconnecting to Redis) for a bounded time."""
    deadline = time.monotonic() + RETRY_S
    while True:
        conn = pf.RawPop3(port)
        reply = conn.login(user, password)
        if reply.startswith(b"+OK"):
            return conn
        conn.close()
        retry = reply.startswith(b"-ERR [IN-USE]") or reply.startswith(b"-ERR [SYS/TEMP]")
        if not retry or time.monotonic() > deadline:
            raise AssertionError(f"login as {user} failed: {reply!r}")
        time.sleep(0.1)


def round_robin(workdir, targets):
    """A real HAProxy (TCP mode, roundrobin, send-proxy-v2) in front of the replicas; its port
    is `.ports[0]`."""
    port = free_port()
    lines = ["frontend pop3", f"  bind {pf.HOST}:{port}", "  default_backend replicas",
             "backend replicas", "  balance roundrobin"]
    lines += [f"  server replica{n} {pf.HOST}:{target} send-proxy-v2"
              for n, target in enumerate(targets)]
    return HaProxy(workdir, lines, [port])


class RedisStateTest(pf.GatewayTestCase):
    redis = None  # started with the first replica, stopped with the gateways (tearDownClass)
    other = None  # the second replica
    balancer = None  # HAProxy over both

    @classmethod
    def gateway_config(cls):
        """Every replica's: state: redis on the class's redis-server."""
        start_redis(cls)
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["listeners"].append({"name": "balanced", "address": pf.HOST, "port": free_port(),
                                    "proxy_protocol": True, "proxy_protocol_from": ["127.0.0.1/32"],
                                    "auth_requires_tls": False})
        config["state"] = {"type": "redis", "address": pf.HOST, "port": cls.redis.port,
                           "key_prefix": "popgate-test:", "lease_s": LEASE_S,
                           "connect_timeout_s": 2,
                           "password_file": os.path.join(cls.workdir, "redis.password")}
        return config

    def setUp(self):
        if self.redis.proc is None:
            self.redis.start()
        if self.other is None:
            type(self).other = self.start_gateway(self.gateway_config())
        if self.balancer is None:
            balanced = [gw.config["listeners"][1]["port"] for gw in (self.gateway, self.other)]
            type(self).balancer = round_robin(self.workdir, balanced).start()
            self.gateways.append(self.balancer)
        for user in (ALICE, BOB):
            self.sandbox.clear(user[0])
            self.sandbox.seed(*user, [message(n) for n in range(1, COUNT + 1)])
        # Both replicas connected (again) and no lease left by an earlier test.
        for gw in (self.gateway, self.other):
            self.quit(login_when_available(gw.port, *ALICE))

    def quit(self, conn):
        try:
            self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        finally:
            conn.close()

    def upstream_count(self, user):
        conn = self.sandbox.imap(user[0])
        try:
            typ, data = conn.select("INBOX")
            self.assertEqual(typ, "OK")
            return int(data[0])
        finally:
            conn.logout()

    def test_second_login_through_the_other_replica_is_in_use(self):
        first = self.connect(self.gateway.port)
        self.assertTrue(first.login(*ALICE).startswith(b"+OK"))
        second = self.connect(self.other.port)
        self.assertTrue(second.login(*ALICE).startswith(b"-ERR [IN-USE]"))
        # Another mailbox is not locked by it.
        bob = self.connect(self.other.port)
        self.assertTrue(bob.login(*BOB).startswith(b"+OK"))
        self.assertTrue(bob.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))
        # Released at QUIT (asynchronously: the release is on its way to Redis).
        self.quit(login_when_available(self.other.port, *ALICE))

    def test_through_a_round_robin_balancer_the_second_session_is_in_use(self):
        first = self.connect(self.balancer.ports[0])
        self.assertTrue(first.login(*ALICE).startswith(b"+OK"))
        second = self.connect(self.balancer.ports[0])  # roundrobin: the other replica
        self.assertTrue(second.login(*ALICE).startswith(b"-ERR [IN-USE]"))
        self.assertTrue(first.cmd("QUIT").startswith(b"+OK"))
        for gw in (self.gateway, self.other):
            self.assertIn("connected to balanced", gw.log_text())

    def test_killed_replica_deletes_nothing_and_its_lease_expires(self):
        victim = self.start_gateway(self.gateway_config(), name="victim")
        conn = self.connect(victim.port)
        self.assertTrue(conn.login(*ALICE).startswith(b"+OK"))
        self.assertTrue(conn.cmd("DELE 1").startswith(b"+OK"))
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        self.assertEqual(self.upstream_count(ALICE), COUNT)
        after = login_when_available(self.other.port, *ALICE)
        self.addCleanup(after.close)
        self.assertTrue(after.cmd("STAT").startswith(b"+OK %d " % COUNT))
        self.assertTrue(after.cmd("QUIT").startswith(b"+OK"))

    def test_a_redis_that_does_not_answer_is_a_temporary_failure(self):
        # SIGSTOP: the connection stays open but nothing answers, so only popgate's own bound
        # (connect_timeout_s) ends the wait.
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        try:
            conn = self.connect(self.other.port)
            self.assertTrue(conn.login(*BOB).startswith(b"-ERR [SYS/TEMP]"))
        finally:
            os.kill(self.redis.proc.pid, signal.SIGCONT)
        self.assertIn("unavailable (a command timed out)", self.other.log_text())

    def test_redis_stopped_refuses_new_logins_and_lets_a_session_finish(self):
        session = self.connect(self.gateway.port)
        self.assertTrue(session.login(*ALICE).startswith(b"+OK"))
        self.assertTrue(session.cmd("DELE 1").startswith(b"+OK"))
        self.redis.stop()
        newcomer = self.connect(self.other.port)
        self.assertTrue(newcomer.login(*BOB).startswith(b"-ERR [SYS/TEMP]"))
        self.assertTrue(session.cmd("STAT").startswith(b"+OK"))
        self.assertTrue(session.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.upstream_count(ALICE), COUNT - 1)
        self.assertIn("login bob refused: redis", self.other.log_text())


class SharedThrottleTest(pf.GatewayTestCase):
    """Two replicas on one redis-server, with a low refusal limit and LOGIN-DELAY. Each test uses
    its own client address (127.0.0.x) and its own mailbox, so their records do not meet."""
    redis = None
    other = None

    @classmethod
    def gateway_config(cls):
        start_redis(cls)
        config = pf.base_config(cls.sandbox.imap_port, free_port())
        config["limits"] = {"failed_logins": {"window_s": 600, "first_delay_ms": 10,
                                              "max_delay_s": 1, "refuse_after": REFUSE_AFTER}}
        config["backends"]["local"]["login"] = {"login_delay_s": 600}
        # By name: popgate looks it up (localhost may give ::1 first, where this Redis does
        # not listen: the next address is tried).
        config["state"] = {"type": "redis", "address": "localhost", "port": cls.redis.port,
                           "key_prefix": "popgate-throttle:", "connect_timeout_s": 2,
                           "password_file": os.path.join(cls.workdir, "redis.password")}
        return config

    def setUp(self):
        if self.other is None:
            type(self).other = self.start_gateway(self.gateway_config())

    def login(self, port, user, password, source):
        conn = pf.RawPop3(port, source=source)
        self.addCleanup(conn.close)
        return conn.login(user, password)

    def test_failures_through_one_replica_refuse_the_address_on_the_other(self):
        guesser = "127.0.0.5"
        for n in range(REFUSE_AFTER):
            reply = self.login(self.gateway.port, f"guess{n}", "wrong", guesser)
            self.assertTrue(reply.startswith(b"-ERR [AUTH]"), (n, reply))
        reply = self.login(self.other.port, *ALICE, guesser)
        self.assertTrue(reply.startswith(b"-ERR [SYS/TEMP] Too many failed logins"), reply)
        # The right password from another address goes through, on either replica.
        reply = self.login(self.other.port, *ALICE, "127.0.0.6")
        self.assertTrue(reply.startswith(b"+OK"), reply)

    def test_a_login_through_one_replica_starts_login_delay_on_the_other(self):
        conn = pf.RawPop3(self.gateway.port, source="127.0.0.7")
        self.addCleanup(conn.close)
        self.assertTrue(conn.login(*BOB).startswith(b"+OK"))
        self.assertTrue(conn.cmd("QUIT").startswith(b"+OK"))
        # The lease is released asynchronously: [IN-USE] may come first, never a +OK.
        deadline = time.monotonic() + RETRY_S
        while True:
            reply = self.login(self.other.port, *BOB, "127.0.0.7")
            if not reply.startswith(b"-ERR [IN-USE]") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(reply,
                         b"-ERR [LOGIN-DELAY] Minimum time between logins not yet passed.\r\n")


if __name__ == "__main__":
    import unittest
    unittest.main()
