#pragma once
// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load
// balancer sends before the client's first byte, carrying the client's address. A pure parser:
// it is handed everything received so far and says whether a complete header is there, how long
// it is, and what it carries. The bytes after the header belong to the client.
//
// What it accepts, and why:
// - v1 (text): "PROXY TCP4|TCP6 src dst sport dport\r\n", or "PROXY UNKNOWN ...\r\n" (the
//   balancer does not know the client: the connection's own address stands). At most 107 bytes
//   (§2.1), so a missing CRLF is an error after 107 bytes, never a wait.
// - v2 (binary): the 12-byte signature, version 2, command LOCAL (the balancer's own health
//   check: the connection's address stands) or PROXY; families INET and INET6 over STREAM, and
//   UNSPEC (and UNIX, which carries no IP) with the connection's address (§2.2: "the receiver
//   must ... use the real connection endpoints"). TLVs are skipped, except PP2_TYPE_SSL's
//   client bit: the balancer terminated TLS for this client (HAProxy `send-proxy-v2-ssl`).
//   A header longer than kMaxHeaderBytes is refused: TLVs are bounded like every other input.
// Anything else (no signature, a bad address, a DGRAM family) is Invalid: the connection must
// then be closed, since its first bytes are neither a header nor POP3 (§2: no fallback).

#include <cstddef>
#include <string>
#include <string_view>

namespace popgate::net {

struct ProxyHeader {
  // "192.0.2.1:4000" or "[2001:db8::1]:4000" (TcpStream::peerAddress's form); empty when the
  // header carries no address (v1 UNKNOWN, v2 LOCAL, UNSPEC, UNIX): use the connection's.
  std::string source;
  bool clientTls = false;  // v2 PP2_TYPE_SSL with PP2_CLIENT_SSL: TLS ended at the balancer
  std::size_t length = 0;  // header bytes; what follows is the client's
};

struct ProxyParse {
  enum class Status { NeedMore, Complete, Invalid };
  Status status = Status::NeedMore;
  ProxyHeader header;  // when Complete
  std::string error;   // when Invalid: for the log (never network bytes unescaped)
};

inline constexpr std::size_t kMaxProxyV1Bytes = 107;
// 16 fixed bytes and up to 36 of addresses, plus room for the TLVs balancers send (unique id,
// SSL details, AWS/Azure ids): a few hundred bytes in practice.
inline constexpr std::size_t kMaxProxyHeaderBytes = 1024;

ProxyParse parseProxyHeader(std::string_view received);

}  // namespace popgate::net
