"""Optional passdbs for scripts/dovecot_sandbox.py: master users and OAuth2 (Dovecot 2.3.19).

auth_config(dir, master_users, oauth2_introspection_url) writes the files they read under DIR
and returns (auth_mechanisms, passdb blocks) for dovecot.conf; with neither option, exactly
the sandbox's usual "plain login" and no block.
"""

import os

# A master user logs in as anyone with SASL PLAIN: authorization identity = the user,
# authentication identity = the master (RFC 4616). pass = yes: the user must exist in the
# ordinary passdb, which is then asked without a password.
MASTER_PASSDB = """\
passdb {{
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN username_format=%u {path}
}}
"""

# XOAUTH2 and OAUTHBEARER tokens are checked by RFC 7662 introspection (a POST with token=...;
# Dovecot's "post" mode). The answer must name the login user (username) and be active.
OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {path}
}}
"""
OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
username_format = %u
active_attribute = active
active_value = true
timeout_msecs = 10000
"""


def auth_config(directory, master_users=None, oauth2_introspection_url=None):
    mechanisms, blocks = "plain login", ""
    if master_users:
        path = os.path.join(directory, "master-users")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"{name}:{{PLAIN}}{password}\n" for name, password in master_users.items())
        blocks += MASTER_PASSDB.format(path=path)
    if oauth2_introspection_url:
        path = os.path.join(directory, "dovecot-oauth2.conf.ext")
        with open(path, "w", encoding="utf-8") as f:
            f.write(OAUTH2_CONF.format(url=oauth2_introspection_url))
        mechanisms += " xoauth2 oauthbearer"
        blocks += OAUTH2_PASSDB.format(path=path)
    return mechanisms, blocks
