#pragma once
// Turns message bytes into the body of a POP3 multi-line response (RFC 1939 §3), chunk by
// chunk: bare LF becomes CRLF, a line starting with '.' gets a second '.', and finish() ends the
// response with CRLF (if the message lacked a final line break) and ".CRLF". A bare CR is kept,
// as Dovecot keeps it, so that output matches a Dovecot POP3 server on the same store.

#include <string>
#include <string_view>
#include <vector>

namespace popgate::pop3 {

class DotStuffer {
 public:
  void append(std::string_view chunk, std::string& out);
  // The same output as pieces: views into `chunk` and into static text ("." and "\r\n"), so
  // that a large chunk can go to the socket without being copied. Valid while `chunk` is.
  void append(std::string_view chunk, std::vector<std::string_view>& pieces);
  void finish(std::string& out);
  void reset() { *this = DotStuffer{}; }

 private:
  template <class Emit>
  void stuff(std::string_view chunk, Emit&& emit);

  bool atLineStart_ = true;
  bool lastWasCr_ = false;
};

}  // namespace popgate::pop3
