"""How scripts/cyrus_sandbox.py configures Cyrus IMAP 3.6: the imapd.conf and cyrus.conf
templates, the shell that runs master, the cyrus user and the SASL names, with the facts
about Cyrus that this configuration rests on. Standard library only."""

# Facts about Cyrus 3.6.1 (Debian 3.6.1-4+deb12u5) as this sandbox configures it, each checked
# with real requests here (tests/integration/test_cyrus_sandbox.py pins the main ones):
#
# Running it
# - master runs as the `cyrus` user (cyrus_user; it switches from root itself). `cyrus_user:
#   root` is refused (imapd, pop3d, httpd: "Fatal error: must run as the Cyrus user"), and so is
#   a user missing from /etc/passwd. master passes no -C to its children: every cmd in
#   cyrus.conf names the imapd.conf. Default sockets and the pid
#   file are moved under DIR (nothing written in /var or /run: checked with strace).
# - Logins go through SASL auxprop sasldb (saslpasswd2 -f DIR/sasldb2). The realm of a user
#   without a domain is `servername` ("localhost"); with `virtdomains: userid`, carol@example.org
#   is user carol in realm example.org. INBOX is made at the first IMAP/POP3 login
#   (autocreate_quota: 0); before that JMAP answers `accountNotFound`, so start() logs every
#   user in once. Wrong passwords: IMAP "NO Login failed: authentication failure", POP3
#   "-ERR [AUTH] Invalid login", at once with `failedloginpause: 0` (default 3 s).
# - It logs only to syslog. When `unshare` works, master runs in its own mount namespace whose
#   /dev/log is our socket: the lines land in DIR/cyrus.log. Start takes about 1.5 s.
# - APPEND of a message with a bare LF: "NO Message contains bare newlines".
#
# JMAP over https (Sandbox(..., tls=(cert, key)))
# - imapd.conf `tls_server_cert:` / `tls_server_key:` (PEM; an ECDSA P-256 key works) and the
#   service in cyrus.conf as `httpd -s` (TLS from the first byte, as for imaps/pop3s; named
#   `https` here, so it logs as popgate-cyrus/https). Nothing else is needed (no DH file: it
#   logs "inittls: Loading hard-coded DH parameters"); TLS 1.3, TLS_AES_256_GCM_SHA384. The
#   files are copied under DIR/tls owned by the cyrus user: httpd reads them after dropping
#   root. A plain-text request on that port gets "HTTP/1.0 500 ... Fatal error: Error
#   negotiating TLS" and a close. Same JMAP answers as over http (relative URLs; the login logs
#   as "Basic+TLS"). Each handshake logs "starttls: TLSv1.3 with cipher ... no
#   authentication", with "; application protocol = h2" when ALPN picked h2: httpd takes h2 if
#   the client offers it, http/1.1 if only that is offered, and no ALPN gets HTTP/1.1.
#
# JMAP (httpmodules: jmap, conversations: yes, conversations_db: twoskip)
# - Session resource: GET http://127.0.0.1:PORT/jmap/ (also /jmap without the slash);
#   /.well-known/jmap answers 301 with Location http://127.0.0.1:PORT/jmap. Session (alice):
#   {"username":"alice","apiUrl":"/jmap/",
#    "downloadUrl":"/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
#    "uploadUrl":"/jmap/upload/{accountId}/",
#    "eventSourceUrl":"/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
#    "state":"0",
#    "capabilities":{"urn:ietf:params:jmap:core":{"maxSizeUpload":1073741824,
#      "maxConcurrentUpload":5,"maxSizeRequest":10485760,"maxConcurrentRequests":5,
#      "maxCallsInRequest":50,"maxObjectsInGet":4096,"maxObjectsInSet":4096,
#      "collationAlgorithms":[]},
#      "urn:ietf:params:jmap:mail":{},"urn:ietf:params:jmap:submission":{},
#      "urn:ietf:params:jmap:vacationresponse":{},"urn:ietf:params:jmap:mdn":{},
#      "https://cyrusimap.org/ns/jmap/sieve":{}},
#    "accounts":{"alice":{"name":"alice","isPrimary":true,"isPersonal":true,"isReadOnly":false,
#      "accountCapabilities":{"urn:ietf:params:jmap:core":{},"urn:ietf:params:jmap:mail":{
#        "maxMailboxesPerEmail":20,"maxKeywordsPerEmail":100,
#        "maxSizeAttachmentsPerEmail":10485760,"emailsListSortOptions":["receivedAt","sentAt",
#        "from","id","emailstate","size","subject","to","hasKeyword","someInThreadHaveKeyword"],
#        "mayCreateTopLevelMailbox":true}, "urn:ietf:params:jmap:mdn":{},
#        "https://cyrusimap.org/ns/jmap/sieve":{...}, "urn:ietf:params:jmap:vacationresponse":{}}}},
#    "primaryAccounts":{"urn:ietf:params:jmap:mail":"alice","urn:ietf:params:jmap:submission":
#      "alice", ...the same for contacts, calendars, backup, vacationresponse, sieve}}
#   The accountId is the login name as is ("alice", "carol@example.org"); URLs are relative.
# - HTTP Basic works over plain HTTP because of `allowplaintext: yes` (with `no`, every plain
#   request gets 301 to https://). A wrong password, an unknown user or no Authorization at all:
#   401, `WWW-Authenticate: Basic realm="localhost"`, Content-Type text/html, Content-Length
#   set, no delay. Every HTTP/1.1 response carries `Connection: Upgrade`, `Upgrade: h2c` and
#   `Alt-Svc: h2c=":PORT"` (an offer only; it is not a close). Keep-alive: one HTTP/1.1
#   connection served many requests, pipelined ones too; HTTP/1.0 gets `Connection: close`.
#   Documented, not seen here: a request slower than httpkeepalive (20 s) gets interim
#   `102 Processing` responses; an idle connection is closed after httptimeout (5 min).
# - Mailbox/query {"filter":{"role":"inbox"}} gives the one INBOX (JMAP name "Inbox"). No trash
#   mailbox exists by default. `CREATE Trash (USE (\Trash))` over IMAP (create_trash()) or
#   Mailbox/set create {"name":"Trash","role":"trash","parentId":null} both give role "trash".
# - Email/query sorted [{"property":"receivedAt","isAscending":true}] plus Email/get with
#   "#ids" {"resultOf","name":"Email/query","path":"/ids"} and properties id, blobId, size work
#   in one request. receivedAt has whole seconds, and Cyrus breaks ties by arrival DESCENDING,
#   then GUID descending: messages APPENDed in the same second do NOT come in UID order.
# - Email id = "M" + the first 24 hex digits of the SHA-1 of the message bytes (25 characters,
#   [0-9a-f] after the M); blobId = "G" + all 40 (the IMAP GUID). Byte-identical messages are
#   ONE Email (two APPENDs of the same bytes: IMAP/POP3 count 2, Email/query total 1). IMAP
#   FETCH EMAILID gives the same id. Mailbox ids: 24 characters [0-9a-z].
# - Download (downloadUrl, accept=message/rfc822): exactly the bytes of IMAP BODY.PEEK[] and
#   exactly `size` octets (= RFC822.SIZE) for messages without a final CRLF, with 8-bit bytes, a
#   bare CR, a 10,000-character line, lines with a leading dot, 2 MB and 20 MB. Status 200,
#   Content-Length (never chunked), Content-Type message/rfc822, Content-Disposition
#   attachment; filename="NAME", Cache-Control private, max-age=604800, immutable.
#   httpallowcompress: no here, so nothing is gzip/br encoded.
# - Email/set {"destroy":[id]} expunges every copy at once (both byte-identical copies, and a
#   copy in another mailbox); IMAP sees them gone. An unknown id (even "bogus") is reported as
#   "destroyed" too, never "notDestroyed".
#
# pop3d
# - UIDL "<uidvalidity>.<uid>" (e.g. "1796474040.7"); CAPA: EXPIRE NEVER, LOGIN-DELAY 0, TOP,
#   UIDL, PIPELINING, RESP-CODES, AUTH-RESP-CODE, IMPLEMENTATION Cyrus POP3 3.6.1-...
#   LIST gives RFC822.SIZE; a message without a final CRLF: LIST N, RETR N+2 octets.

import os
import pwd
import subprocess

CYRUS_USER = "cyrus"
DEFAULT_ROOT = "/opt/popgate-peers/cyrus"
SERVERNAME = "localhost"  # also the SASL realm of the users without a domain


def cyrus_root():
    return os.environ.get("POPGATE_CYRUS_ROOT", DEFAULT_ROOT)


IMAPD_CONF = """\
# Generated by scripts/cyrus_sandbox.py: a self-contained Cyrus for tests.
configdirectory: {dir}/conf
defaultpartition: default
partition-default: {dir}/spool
sievedir: {dir}/sieve
# Default socket paths are {{configdirectory}}/socket/...; named here so none is in /run.
lmtpsocket: {dir}/conf/socket/lmtp
idlesocket: {dir}/conf/socket/idle
notifysocket: {dir}/conf/socket/notify
ptloader_sock: {dir}/conf/socket/ptsock
proc_path: {dir}/conf/proc
mboxname_lockpath: {dir}/conf/lock
cyrus_user: {cyrus_user}
servername: {servername}
syslog_prefix: popgate-cyrus
# Plain-text LOGIN/USER/PASS and HTTP Basic without TLS (loopback test bench).
allowplaintext: yes
# Real password checks against DIR/sasldb2 (never alwaystrue).
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {dir}/sasldb2
sasl_mech_list: PLAIN LOGIN
# carol@example.org: the domain part of the login is the domain (and the SASL realm).
virtdomains: userid
# INBOX made at the first login.
autocreate_quota: 0
# Tests send wrong passwords on purpose: answer at once (default 3 s).
failedloginpause: 0
# JMAP needs both.
httpmodules: jmap
conversations: yes
# What Cyrus's JMAP guide asks for beside conversations (cyrusimap.org/imap/developer/jmap.html).
# The 3.6 default, skiplist, ignores a reader's shared lock: every JMAP request and download of
# a user holds that user's conversations.db exclusively until its answer is written, so two
# downloads of one user never run at once. twoskip takes a shared lock for readers.
conversations_db: twoskip
# Downloads byte-exact, never gzip/br encoded.
httpallowcompress: no
# Every JMAP request asks for the EmailSubmission capabilities, and Cyrus fetches them from its
# SMTP backend each time it has none cached: with the default (sendmail) that is a fork of a
# missing /usr/sbin/sendmail, ~23 ms of CPU per API request. A refused loopback connection
# fails in microseconds; popgate never submits mail.
smtp_backend: host
smtp_host: 127.0.0.1:1
# No Unix group lookups (NSS) for ACL identifiers at each request: sandbox users have none.
unix_group_enable: no
"""

CYRUS_CONF = """\
# Generated by scripts/cyrus_sandbox.py. master passes no -C to its children: each cmd names it.
START {{
  recover cmd="{bin}/ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap cmd="{bin}/imapd -C {conf}" listen="{host}:{imap_port}" prefork=1
  pop3 cmd="{bin}/pop3d -C {conf}" listen="{host}:{pop3_port}" prefork=1
  {http_service} cmd="{bin}/httpd {httpd_flags}-C {conf}" listen="{host}:{http_port}" prefork=1
}}
EVENTS {{
  checkpoint cmd="{bin}/ctl_cyrusdb -C {conf} -c" period=30
}}
"""

# master runs under this shell, which stays root: die_with_parent's PR_SET_PDEATHSIG does not
# survive master's switch to the cyrus user, the shell's does, and it passes SIGTERM on.
# Before that, in its own mount namespace (unshare -m), it lays a small /dev whose `log` is a
# link to $1, the socket our syslog listener reads: Cyrus logs only to syslog (/dev/log), and
# the machine may have no syslog daemon. Without unshare or mount rights, no log is captured.
WRAPPER = r"""
sock=$1; dev=$2; shift 2
if [ -n "$sock" ] && [ -n "$dev" ]; then
  if mount --make-rprivate / 2>/dev/null && mkdir -p "$dev" &&
     mount -t tmpfs -o mode=755,size=64k popgate-cyrus-dev "$dev"; then
    for n in null zero full random urandom tty; do
      touch "$dev/$n" && mount --bind "/dev/$n" "$dev/$n"
    done
    ln -s /proc/self/fd "$dev/fd"; mkdir -m 1777 "$dev/shm"
    ln -s "$sock" "$dev/log"
    mount --move "$dev" /dev || echo "cyrus_sandbox: no /dev/log capture" >&2
  else
    echo "cyrus_sandbox: no mount namespace, no /dev/log capture" >&2
  fi
fi
"$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' TERM INT HUP
rc=0
while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done
exit $rc
"""


def cyrus_ids():
    """uid/gid of the cyrus user (created on first use): master runs as it, never as root."""
    try:
        pw = pwd.getpwnam(CYRUS_USER)
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                        CYRUS_USER], check=True)
        pw = pwd.getpwnam(CYRUS_USER)
    return pw.pw_uid, pw.pw_gid


def sasl_name(user):
    """(name, realm) as saslpasswd2 stores them: virtdomains splits user@domain."""
    name, _, domain = user.partition("@")
    return name, domain or SERVERNAME
