"""How scripts/courier_sandbox.py runs Courier-IMAP 5.0 and courier-pop: the paths authlib
has compiled in, the authdaemonrc, the shell that starts the daemons in their own mount
namespace, userdb passwords and what Courier makes of an APPENDed message, with the facts
about Courier that these rest on. Standard library only."""

# Facts about Courier-IMAP 5.0.13 / courier-pop 1.0.16 and courier-authlib 0.71.4 (Debian 12) as
# this sandbox runs them, each checked here (tests/integration/test_courier_sandbox.py pins the
# main ones):
#
# Per-sandbox authdaemond
# - authlib's paths are compiled in, with no environment variable or option to move them:
#   authdaemond reads /etc/courier/authdaemonrc, its userdb module reads
#   /etc/courier/userdb.dat and userdbshadow.dat, and the socket between the login programs
#   (imaplogin, courierpop3login, via libcourierauth) and authdaemond is
#   /run/courier/authdaemon/socket on both ends. So authdaemond and both couriertcpd run in
#   their own mount namespace (unshare --mount) where DIR/etc is bind-mounted on /etc/courier
#   and DIR/run on /run/courier: each sandbox has its own daemon, users and socket, and nothing
#   outside DIR is written (the mount points must exist: /etc/courier comes with
#   courier-authdaemon, /run/courier is made if missing, as its tmpfiles.d entry would).
# - Passwords: userdb `systempw={SHA256}<base64 of SHA-256>` (authlib also takes {MD5}, {SHA},
#   {SHA512}, {SSHA}, {CRYPT}); the userdb text file must be mode 0600 for makeuserdb. A userdb
#   name may contain '@' (carol@example.org); passwords are hashed, so any bytes work.
# - couriertcpd puts itself in its own process group and, on SIGTERM, takes its children down
#   (a session gets "* BYE"); the default -maxperip is 4 (raised here). Each server writes its
#   log lines to stderr (no courierlogger here): DIR/imapd.log, DIR/pop3d.log,
#   DIR/authdaemond.log. A wrong password is answered after 5 s (IMAP "NO Login failed.", POP3
#   "-ERR Login failed."); no setting changes that.
#
# IMAP (couriertcpd + imaplogin + imapd, started with a clean environment)
# - Capabilities come only from IMAP_CAPABILITY (Debian's default list here, with UIDPLUS); the
#   greeting carries them plus ACL, ACL2=UNION, ENABLE and UTF8=ACCEPT. Without TLS no AUTH=PLAIN
#   is advertised: imap() logs in with LOGIN and the password as a literal (quotes, backslash,
#   8-bit bytes pass as they are; quoted strings work too).
# - imaplogin execs imapd after LOGIN: what a client pipelined behind LOGIN is lost.
# - UIDVALIDITY: the first number of courierimapuiddb ("1 <uidvalidity> <nextuid>", then
#   "<uid> <file name without flags>" lines). imapd makes it when the Maildir has none, with
#   the time minus 10^9 as UIDVALIDITY (e.g. 796478934 at 1796478934), and keeps one it finds.
# - A message of header lines only (no blank line): BODY[HEADER] is one octet short, ending in
#   a lone CR (42 octets for a 43-octet message), and BODY[TEXT] (and BODY[TEXT]<0.1>) is that
#   one octet, a CR too, not an LF: HEADER + TEXT is "...\r\r" where BODY[] is "...\r\n".
# - APPEND (the stored file has LF line ends; IMAP and POP3 send CRLF): a bare LF becomes a
#   line end, a bare CR is dropped, a missing final line end is added. So a message is served as
#   courier_form(raw) below, RFC822.SIZE and POP3 LIST are its length.
# - File names: <seconds>.M<microseconds>P<pid>V<dev>I<inode>_<n>.<host>,S=<size>, the
#   microseconds NOT zero-padded.
#
# POP3 (couriertcpd + courierpop3login + courierpop3d)
# - UIDL "UID<n>-<v>", decimal. n and v are pop3d's OWN numbering, kept in the Maildir's
#   courierpop3dsizelist ("/3 <nextuid> <uidvalidity>", then "<file> <size> <n>:<v>:<utf8>"
#   lines), not IMAP's UID and UIDVALIDITY: at each login pop3d numbers the messages it has not
#   seen before, in file-name order, from its own counter, and v is the time of the login that
#   created the list. A Maildir first opened by IMAP and then by POP3 a few seconds later gets
#   e.g. IMAP UIDVALIDITY 796478934 and UIDL "UID1-1796478940". So new_maildir() (used for every
#   user at start) writes both files empty with ONE uidvalidity and both counters at 1, and
#   seed() ends with a POP3 login so pop3d numbers the new messages at once, as IMAP did at
#   APPEND: then, and only then, "UID<imap uid>-<imap uidvalidity>" equals pop3d's UIDL.
#   new_maildir(user, align_uids=False) gives a Maildir as Courier makes it.
# - Message order: by file name (the seconds, then the rest compared as text), not by IMAP
#   UID. Since the microseconds are not zero-padded, two messages APPENDed in the same second
#   can sort against their UIDs ("M99999" after "M100000"); seed() APPENDs only in the part of
#   a second where every microsecond count has six digits, so file-name order = UID order (and
#   checks it).
# - CAPA: TOP, USER, LOGIN-DELAY 10, PIPELINING, UIDL, UTF8 USER, IMPLEMENTATION Courier Mail
#   Server. Status lines: "+OK N octets follow." (RETR), "+OK headers follow." (TOP), every bad
#   message number "-ERR Invalid message number.".
# - LIST and RETR count CRLF line ends (the file's size plus one per line); RETR sets \Seen
#   (renames the file to ...:2,S); TOP does not; `TOP n -1` is +OK with the whole message (the
#   line count is parsed as unsigned). A message with 8-bit bytes in its header is sent wrapped
#   in a multipart "Cannot display Unicode content" notice (RFC 6856: the client did not say
#   UTF8), so its RETR has other bytes and another size than LIST and IMAP say.

import base64
import hashlib
import os
import re

DEFAULT_ROOT = "/opt/popgate-peers/courier"
SYSTEM_ETC = "/etc/courier"      # compiled into authlib: bind-mounted from DIR/etc
SYSTEM_RUN = "/run/courier"      # compiled into authlib: bind-mounted from DIR/run
AUTHDAEMOND = "/usr/lib/courier/courier-authlib/authdaemond"  # courier-authdaemon (installed)
MAKEUSERDB = "/usr/sbin/makeuserdb"                           # courier-authlib-userdb
# Debian's /etc/courier/imapd default: UIDPLUS is what popgate needs (UID EXPUNGE).
IMAP_CAPABILITY = ("IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
                   "THREAD=REFERENCES SORT QUOTA IDLE")


def courier_root():
    return os.environ.get("POPGATE_COURIER_ROOT", DEFAULT_ROOT)


def courier_form(raw):
    """What Courier stores for an APPENDed message, as IMAP and POP3 serve it (CRLF line ends):
    bare CR dropped, bare LF a line end, a final line end added when missing."""
    lines = re.split(rb"\r?\n", raw)
    if lines[-1] == b"":
        lines.pop()
    return b"".join(line.replace(b"\r", b"") + b"\r\n" for line in lines)


AUTHDAEMONRC = """\
# Generated by scripts/courier_sandbox.py; seen by authdaemond as /etc/courier/authdaemonrc.
authmodulelist="authuserdb"
authmodulelistorig="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
"""

# Runs under `unshare --mount` as root: gives authlib DIR's files at its compiled-in paths,
# starts the three daemons, passes SIGTERM on, and exits (taking the others down) as soon as one
# of them exits, e.g. a couriertcpd that could not bind its port.
WRAPPER = r"""
etc=$1; run=$2; pids_file=$3
mount --make-rprivate / && mount --bind "$etc" {system_etc} && mount --bind "$run" {system_run} ||
  {{ echo "courier_sandbox: cannot bind-mount $etc and $run in a mount namespace" >&2; exit 97; }}
{authdaemond} >>{dir}/authdaemond.log 2>&1 &
a=$!
{imap} >>{dir}/imapd.log 2>&1 &
i=$!
{pop3} >>{dir}/pop3d.log 2>&1 &
p=$!
echo "$$ $a $i $p" > "$pids_file"
trap 'kill -TERM $a $i $p 2>/dev/null' TERM INT HUP
wait -n
rc=$?
kill -TERM $a $i $p 2>/dev/null
wait
exit $rc
"""


def courier_password(password):
    """userdb's systempw for a password: {SHA256} and the base64 of its SHA-256."""
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return "{SHA256}" + base64.b64encode(digest).decode()
