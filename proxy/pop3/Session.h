#pragma once
// The POP3 state machine (RFC 1939 AUTHORIZATION / TRANSACTION / UPDATE, RFC 2449 CAPA and
// response codes). It sees bytes in, replies out through a SessionSink, the login steps through
// login::Authenticator and login::MailboxLockService, and a mail store through backends::Mailbox;
// it has no event loop of its own and is driven entirely by its owner. Its code is in four files:
// Session.cpp (input, dispatch, greeting, CAPA, STLS, QUIT), SessionSasl.cpp (AUTH through the
// SASL table, APOP), SessionLogin.cpp (USER/PASS and the asynchronous login) and
// SessionMessages.cpp (the TRANSACTION commands and message bodies).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/mailbox/Mailbox.h"
#include "lib/common/Pending.h"
#include "proxy/login/Authenticator.h"
#include "proxy/login/MailboxLockService.h"
#include "proxy/pop3/CommandDecoder.h"
#include "proxy/pop3/DotStuffer.h"
#include "proxy/pop3/SessionSink.h"
#include "proxy/sasl/SaslMechanism.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::pop3 {

struct SessionSettings {
  std::string implementation = "popgate";
  std::size_t maxBadCommands = 20;          // then the connection is closed
  std::size_t maxPendingInput = 64 * 1024;  // pipelined input buffered before reading pauses
  bool stlsAvailable = false;          // the listener offers STLS (RFC 2595) and has a certificate
  bool secure = false;                 // TLS from the first byte (POP3S)
  bool authRequiresTls = false;        // refuse USER/PASS until TLS is up
  std::string peer;                    // for logs
  std::string hostname = "localhost";  // in the APOP timestamp and CRAM-MD5 challenges
  // AUTH command lines and SASL responses may be this long, CRLF included (OAuth2 tokens).
  std::size_t maxSaslLine = CommandDecoder::kMaxSaslLine;
  // RFC 2449 §6.5 LOGIN-DELAY (seconds) and §6.7 EXPIRE ("NEVER" or days) as CAPA lists them
  // before login; "per user": a user's value may differ (the LoginGrant's, listed after login).
  std::optional<std::uint32_t> loginDelay;
  bool loginDelayPerUser = false;
  std::optional<std::string> expire;
  bool expirePerUser = false;
};

class Session final : private backends::BodySink {
 public:
  enum class State { Authorization, Transaction, Update, Closed };

  Session(SessionSink& sink, login::Authenticator& authenticator, login::MailboxLockService& locks,
          SessionSettings settings = {});
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();  // sends the greeting
  void onInput(std::string_view bytes);
  void onDrained();      // the client's write queue fell below its low-water mark
  void onIdleTimeout();  // RFC 1939 §3 autologout: ends the session without UPDATE
  // Graceful drain (docs/design.md). At its start (`now` false) a session in AUTHORIZATION
  // that waits on no login is closed with -ERR [SYS/TEMP]; the others go on. At its timeout
  // (`now` true) every session is closed without UPDATE, cancelling what runs upstream, except
  // one in UPDATE: QUIT's commit is awaited and answered as usual.
  void shutdown(bool now);
  void onTlsEstablished();

  State state() const { return state_; }

 private:
  using Handler = void (Session::*)(std::string_view args);
  struct CommandSpec {
    std::string_view verb;
    unsigned states;  // bit mask of State values where the command is legal
    Handler handler;
  };
  static const CommandSpec kCommands[];

  void process();
  void dispatch(const Command& command);
  void badCommand(std::string_view text);
  void reply(std::string_view line);
  void finish();  // flush and close; nothing runs after this
  // Ends the session without UPDATE: cancels what runs upstream, replies `line` unless a
  // multi-line reply is half sent, and closes.
  void abandon(std::string_view line);
  void retireMailbox();

  void cmdCapa(std::string_view args);
  void cmdUser(std::string_view args);
  void cmdPass(std::string_view args);
  void cmdQuit(std::string_view args);
  void cmdStat(std::string_view args);
  void cmdList(std::string_view args);
  void cmdUidl(std::string_view args);
  void cmdRetr(std::string_view args);
  void cmdTop(std::string_view args);
  void cmdDele(std::string_view args);
  void cmdNoop(std::string_view args);
  void cmdRset(std::string_view args);
  void cmdStls(std::string_view args);
  void cmdAuth(std::string_view args);
  void cmdApop(std::string_view args);

  // RFC 5034 AUTH: one exchange of a mechanism from the SASL table at a time.
  sasl::SaslPolicy saslPolicy() const;
  void saslLine(std::string_view line);
  void continueSasl(sasl::SaslStep step);
  void appendCapaPolicy(std::string& out) const;  // LOGIN-DELAY and EXPIRE
  // The login: authenticate, open the mailbox, lock it; each step asynchronous and cancelled when
  // the session ends. `failureChallenge`: the SASL mechanism's, sent if the login is refused.
  void startLogin(login::LoginRequest request,
                  std::optional<std::string> failureChallenge = std::nullopt);
  void authenticated(Result<login::LoginGrant> grant);
  void openFinished(Result<backends::MessageList> snapshot);
  void locked(Result<std::unique_ptr<login::MailboxLock>> lock);
  void loginFailed(const Error& error, std::string_view what, std::string_view permanent = {});
  bool loginAllowed() const { return tlsActive_ || !settings_.authRequiresTls; }

  // Parses a message number that names a visible message; replies -ERR and returns nullopt if not.
  std::optional<std::size_t> visibleMessage(std::string_view arg);
  void startListing(bool uidl);
  void continueListing();
  void startRetrieval(std::size_t index, std::optional<std::uint32_t> bodyLines,
                      std::string okLine);
  void commitFinished(Status status);

  void onBodyStart() override;
  void onBodyData(std::string_view bytes) override;
  void onBodyEnd(Status status) override;

  SessionSink& sink_;
  login::Authenticator& authenticator_;
  login::MailboxLockService& locks_;
  SessionSettings settings_;

  CommandDecoder decoder_;
  State state_ = State::Authorization;
  bool busy_ = false;  // an upstream operation runs; pipelined commands wait
  bool inputPaused_ = false;
  bool tlsActive_ = false;
  bool tlsStarting_ = false;                   // STLS answered; input waits for the handshake
  std::unique_ptr<sasl::SaslMechanism> sasl_;  // an AUTH exchange waits for the client's line
  // The bearer error report (RFC 7628 §3.2.2): kept from the mechanism across the asynchronous
  // login; once sent, the -ERR that answers the client's next line, whatever it is.
  std::optional<std::string> failureChallenge_;
  std::optional<std::string> failureReply_;
  std::string apopTimestamp_;  // empty: APOP is not offered on this connection
  std::size_t badCommands_ = 0;
  unsigned loginAttempts_ = 0;  // logins tried in this session (nginx's Auth-Login-Attempt)

  std::optional<std::string> user_;
  std::string lockKey_;
  bool exclusive_ = true;  // take lockKey_'s lock (the backend's `lock:` policy)
  std::string loginName_;  // for logs; never the password
  std::optional<std::uint32_t> grantedLoginDelay_;  // this user's, from the LoginGrant
  std::optional<std::string> grantedExpire_;
  std::unique_ptr<backends::Mailbox> mailbox_;
  std::vector<std::unique_ptr<backends::Mailbox>> retired_;  // freed outside their callbacks
  Pending loginStep_;  // the login step under way (authentication or lock); reset cancels it
  std::unique_ptr<login::MailboxLock> lock_;

  backends::MessageList messages_;
  std::vector<bool> deleted_;

  // LIST or UIDL of every message under way: sent a slice at a time, the next one once the
  // client took the last (a 100,000-message listing is never one buffer).
  struct Listing {
    bool uidl = false;
    std::size_t next = 0;  // index of the next message to list
  };
  std::optional<Listing> listing_;

  // The retrieval in progress.
  std::string bodyOkLine_;
  bool bodyStarted_ = false;
  bool bodyPaused_ = false;
  DotStuffer stuffer_;
  std::vector<std::string_view> bodyPieces_;  // reused for every chunk
};

}  // namespace popgate::pop3
