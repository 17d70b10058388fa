#pragma once
// Turns message bytes into the body of a POP3 multi-line response (RFC 1939 §3), chunk by
// chunk: bare LF becomes CRLF, a line starting with '.' gets a second '.', and finish() ends the
// response with CRLF (if the message lacked a final line break) and ".CRLF". A bare CR is kept,
// as Dovecot keeps it, so that output matches a Dovecot POP3 server on the same store.

#include <string>
#include <string_view>

namespace popgate::pop3 {

class DotStuffer {
 public:
  void append(std::string_view chunk, std::string& out);
  void finish(std::string& out);
  void reset() { *this = DotStuffer{}; }

 private:
  bool atLineStart_ = true;
  bool lastWasCr_ = false;
};

}  // namespace popgate::pop3
