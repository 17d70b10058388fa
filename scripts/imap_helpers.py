"""IMAP steps every store sandbox shares (dovecot_sandbox.py, cyrus_client.py,
courier_client.py). Standard library only."""


def clear_mailbox(conn, mailbox="INBOX"):
    """Expunges every message of `mailbox` over a logged-in imaplib connection, then logs out
    (tests that delete start from a known mailbox)."""
    try:
        typ, data = conn.select(mailbox)
        if typ != "OK":
            raise RuntimeError(f"SELECT {mailbox} failed: {data}")
        if int(data[0]) > 0:
            conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    finally:
        conn.logout()
