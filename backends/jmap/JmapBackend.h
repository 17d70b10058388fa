#pragma once
// The `type: jmap` backend kind (RFC 8620, RFC 8621): its YAML section, and mailboxes over
// JmapMailbox.
//
//   store:
//     type: jmap
//     url: https://jmap.example.org/jmap/   # the session resource; a bare host or a URL
//                                           # without a path means /.well-known/jmap
//     mailbox: Archive            # default: the mailbox with role inbox
//     delete: destroy             # destroy | trash (move to the mailbox with role trash)
//     proxy: http://proxy:3128    # optional; CONNECT for https
//     connect_timeout_s: 10
//     command_timeout_s: 60       # each API call, and each silence in a download
//     retry_budget_s: 10          # how long 429/503 Retry-After may be waited out per command
//     max_json_bytes: 16777216    # the largest JSON answer read (default 16 MiB)
//     max_connections: 64         # per worker: a RETR holds one while it streams; more wait
//     read_ahead_messages: 4      # after two RETRs in order, the next downloads start ahead on
//     read_ahead_bytes: 262144    # other connections, within both bounds per session (0: off)
//     ca_file, verify, client_cert, client_key   # as for IMAP; the URL's host is verified

#include <memory>
#include <string>

#include "backends/mailbox/BackendRegistry.h"

namespace popgate::jmap {

std::shared_ptr<const backends::BackendDefinition> parseJmapBackend(config::ConfigReader& reader,
                                                                    const YAML::Node& section,
                                                                    const std::string& name);

}  // namespace popgate::jmap
