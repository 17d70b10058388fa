#pragma once
// How ImapMailbox logs in upstream: the command for a credential, chosen from the server's
// capabilities, and what a refusal means. Pure (no I/O); the SASL messages are built here so
// that tests can check them byte by byte.
//
//   password  AUTHENTICATE PLAIN with SASL-IR (RFC 4959) when offered, else LOGIN unless
//             LOGINDISABLED (RFC 3501 §6.2.3), else AUTHENTICATE PLAIN after "+".
//   master    AUTHENTICATE PLAIN with the user as authorization identity and the master user
//             as authentication identity (RFC 4616 §2), as Dovecot and Cyrus accept.
//   token     XOAUTH2 (Google's and Microsoft's) or OAUTHBEARER (RFC 7628), as configured.
//
// A SASL mechanism is only used when the server lists it (AUTH=...): a guess that the server
// answers with NO would read as a wrong password.

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "backends/mailbox/Mailbox.h"
#include "lib/common/Result.h"
#include "lib/imap/ImapConnection.h"

namespace popgate::imap {

// The `token_mechanism` setting: auto takes OAUTHBEARER when offered, else XOAUTH2.
enum class TokenMechanism { Auto, XOAuth2, OAuthBearer };

struct ImapLoginTarget {
  std::string host;  // OAUTHBEARER's host= and port= (RFC 7628 §3.1)
  int port = 143;
  TokenMechanism tokenMechanism = TokenMechanism::Auto;
  bool literalPlus = false;  // for LOGIN's 8-bit strings (RFC 7888)
};

struct ImapLogin {
  ImapCommand command;  // parts and onContinuation; the caller sets onDone
  // A token login's error challenge (RFC 7628 §3.2.2: base64 JSON before the NO), decoded.
  std::shared_ptr<std::string> challenge = std::make_shared<std::string>();
};

// The login command, or a Permanent error when the server offers no way in for this credential.
Result<ImapLogin> makeImapLogin(const backends::Credentials& credentials,
                                const std::set<std::string>& capabilities,
                                const ImapLoginTarget& target);

// What a tagged answer other than OK to the login means: Auth (the credential was refused,
// including NO [AUTHORIZATIONFAILED] for a master user), or Temporary for RFC 5530 UNAVAILABLE
// and SERVERBUG (the server could not check). The detail holds the server's text and a token
// login's error challenge, escaped for the log (never the secret).
Error loginRefused(const ImapHead& head, const std::string& challenge);

// The SASL messages before base64.
std::string saslPlainMessage(std::string_view authzid, std::string_view authcid,
                             std::string_view password);
std::string xoauth2Message(std::string_view user, std::string_view token);
std::string oauthBearerMessage(std::string_view user, std::string_view host, int port,
                               std::string_view token);

}  // namespace popgate::imap
