#pragma once
// The `type: imap` backend kind: its YAML section, and mailboxes over ImapMailbox.
//
//   store:
//     type: imap
//     host: imap.example.org      # required
//     port: 143                   # default 143
//     mailbox: INBOX
//     tls: none                   # none | starttls | implicit, with ca_file, verify, ...
//     connect_timeout_s: 10
//     command_timeout_s: 60
//     read_ahead_bytes: 262144    # 0 turns read-ahead off; at most 16 MiB
//     uidl_format: dovecot        # dovecot | cyrus | courier | a template (UidlFormat.h)
//     token_mechanism: auto       # auto | xoauth2 | oauthbearer, for OAuth2 logins: auto
//                                 # takes OAUTHBEARER (RFC 7628) when offered, else XOAUTH2

#include <memory>
#include <string>

#include "backends/mailbox/BackendRegistry.h"

namespace popgate::imap {

std::shared_ptr<const backends::BackendDefinition> parseImapBackend(config::ConfigReader& reader,
                                                                    const YAML::Node& section,
                                                                    const std::string& name);

}  // namespace popgate::imap
