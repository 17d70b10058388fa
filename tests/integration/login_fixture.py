"""Shared pieces of the login tests: a Dovecot passwd-file for popgate's own check, and the
real clients that speak each AUTH mechanism (curl, mpop, fetchmail, Python's poplib)."""

import os
import subprocess

import popgate_fixture as pf

CLIENT_TIMEOUT_S = 120


def hash_password(password, scheme="SHA512-CRYPT"):
    """{SCHEME}hash as Dovecot's own `doveadm pw` writes it."""
    if scheme == "PLAIN":
        return "{PLAIN}" + password
    out = subprocess.run(["doveadm", "pw", "-s", scheme, "-p", password], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out


def write_users(path, users):
    """users: {name: (password, scheme)} -> a passwd-file popgate's `users` key reads."""
    with open(path, "w", encoding="utf-8") as f:
        for name, (password, scheme) in users.items():
            f.write(f"{name}:{hash_password(password, scheme)}::::::\n")
            pf.add_secret(password)
    os.chmod(path, 0o600)
    return path


def curl(port, path, user, password, login_options, bearer=None):
    argv = ["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT_S),
            f"pop3://{pf.HOST}:{port}/{path}", "--login-options", login_options]
    if bearer is not None:
        argv += ["-u", f"{user}:", "--oauth2-bearer", bearer]
    else:
        argv += ["-u", f"{user}:{password}"]
    proc = subprocess.run(argv, capture_output=True, timeout=CLIENT_TIMEOUT_S)
    return proc.returncode, proc.stdout, proc.stderr


def mpop(port, user, secret, auth, workdir):
    """mpop fetching everything (kept on the server) with --auth=AUTH; secret is the password
    or, for xoauth2/oauthbearer, the token. (rc, messages delivered, stderr)."""
    maildir = os.path.join(workdir, f"mpop-{auth}-{len(os.listdir(workdir))}")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    secret_file = os.path.join(maildir, "secret")
    with open(secret_file, "w", encoding="utf-8") as f:
        f.write(secret)
    proc = subprocess.run([
        "mpop", "-q", "-C", "/dev/null", f"--host={pf.HOST}", f"--port={port}",
        f"--user={user}", f"--passwordeval=cat {secret_file}", "--tls=off",
        f"--auth={auth}", "--keep=on", f"--delivery=maildir,{maildir}",
        f"--uidls-file={os.path.join(maildir, 'uidls')}",
        "--received-header=off"], capture_output=True, timeout=CLIENT_TIMEOUT_S)
    new = os.listdir(os.path.join(maildir, "new"))
    return proc.returncode, len(new), proc.stderr


def fetchmail(port, user, password, protocol_and_auth, workdir):
    """fetchmail in check mode (-c: counts messages, fetches nothing) with e.g. "protocol APOP"
    or "protocol pop3 auth cram-md5". (rc, stdout, stderr)."""
    home = os.path.join(workdir, f"fetchmail-{len(os.listdir(workdir))}")
    os.makedirs(home)
    rc = (f"poll {pf.HOST} service {port} {protocol_and_auth} timeout 120\n"
          f'  user "{user}" there with password "{password}" is "root" here\n'
          f"  keep sslproto ''\n")
    env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
    proc = subprocess.run(["fetchmail", "-c", "-f", "-", "--nodetach", "--nosyslog",
                           "--pidfile", os.path.join(home, "fetchmail.pid")],
                          input=rc.encode(), env=env, capture_output=True,
                          timeout=CLIENT_TIMEOUT_S)
    return proc.returncode, proc.stdout, proc.stderr
