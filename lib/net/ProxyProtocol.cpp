#include "lib/net/ProxyProtocol.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace popgate::net {

namespace {

using Status = ProxyParse::Status;

constexpr std::string_view kV1Signature = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV2Fixed = 16;
constexpr std::uint8_t kPp2TypeSsl = 0x20;  // proxy-protocol.txt §2.2.5
constexpr std::uint8_t kPp2ClientSsl = 0x01;

ProxyParse invalid(std::string error) {
  ProxyParse out;
  out.status = Status::Invalid;
  out.error = std::move(error);
  return out;
}

ProxyParse complete(ProxyHeader header) {
  ProxyParse out;
  out.status = Status::Complete;
  out.header = std::move(header);
  return out;
}

std::string formatSource(int family, const void* address, unsigned port) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, address, text, sizeof(text));
  if (family == AF_INET6) return "[" + std::string(text) + "]:" + std::to_string(port);
  return std::string(text) + ":" + std::to_string(port);
}

// A v1 port: 1 to 5 decimal digits, 0..65535.
bool parsePort(std::string_view text, unsigned& port) {
  if (text.empty() || text.size() > 5) return false;
  port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  return port <= 65535;
}

std::vector<std::string_view> splitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    std::size_t space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

ProxyParse parseV1(std::string_view received) {
  std::size_t lf = received.find('\n');
  if (lf == std::string_view::npos) {
    if (received.size() >= kMaxProxyV1Bytes) return invalid("v1 header without CRLF in 107 bytes");
    return {};
  }
  if (lf + 1 > kMaxProxyV1Bytes) return invalid("v1 header longer than 107 bytes");
  if (lf == 0 || received[lf - 1] != '\r') return invalid("v1 header not ended by CRLF");
  std::string_view line = received.substr(kV1Signature.size(), lf - 1 - kV1Signature.size());
  std::vector<std::string_view> fields = splitSpaces(line);
  ProxyHeader header;
  header.length = lf + 1;
  // §2.1: after UNKNOWN the receiver ignores everything up to the CRLF.
  if (!fields.empty() && fields[0] == "UNKNOWN") return complete(std::move(header));
  if (fields.size() != 5) return invalid("v1 header needs protocol, two addresses, two ports");
  int family = fields[0] == "TCP4" ? AF_INET : fields[0] == "TCP6" ? AF_INET6 : 0;
  if (family == 0) return invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN");
  std::array<unsigned char, 16> source{};
  std::array<unsigned char, 16> destination{};
  unsigned sourcePort = 0;
  unsigned destinationPort = 0;
  if (inet_pton(family, std::string(fields[1]).c_str(), source.data()) != 1 ||
      inet_pton(family, std::string(fields[2]).c_str(), destination.data()) != 1)
    return invalid("v1 address does not match its protocol");
  if (!parsePort(fields[3], sourcePort) || !parsePort(fields[4], destinationPort))
    return invalid("v1 port is not a number from 0 to 65535");
  header.source = formatSource(family, source.data(), sourcePort);
  return complete(std::move(header));
}

unsigned readBig16(const unsigned char* bytes) {
  return static_cast<unsigned>(bytes[0]) << 8 | bytes[1];
}

// The TLVs after the addresses: only PP2_TYPE_SSL's client bit matters here.
bool readTlvs(const unsigned char* at, std::size_t size, ProxyHeader& header) {
  while (size > 0) {
    if (size < 3) return false;
    std::uint8_t type = at[0];
    std::size_t length = readBig16(at + 1);
    if (size < 3 + length) return false;
    if (type == kPp2TypeSsl && length >= 1 && (at[3] & kPp2ClientSsl) != 0) header.clientTls = true;
    at += 3 + length;
    size -= 3 + length;
  }
  return true;
}

ProxyParse parseV2(std::string_view received) {
  if (received.size() < kV2Fixed) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(received.data());
  unsigned version = bytes[12] >> 4;
  unsigned command = bytes[12] & 0x0F;
  unsigned family = bytes[13] >> 4;
  unsigned transport = bytes[13] & 0x0F;
  std::size_t length = kV2Fixed + readBig16(bytes + 14);
  if (version != 2) return invalid("v2 header with version " + std::to_string(version));
  if (command > 1) return invalid("v2 command is neither LOCAL nor PROXY");
  if (length > kMaxProxyHeaderBytes) return invalid("v2 header longer than the limit");
  if (received.size() < length) return {};
  ProxyHeader header;
  header.length = length;
  std::size_t addressBytes = 0;
  if (family == 1)
    addressBytes = 12;  // INET: 4 + 4 + 2 + 2
  else if (family == 2)
    addressBytes = 36;  // INET6: 16 + 16 + 2 + 2
  else if (family == 3)
    addressBytes = 216;  // UNIX: two 108-byte paths
  else if (family != 0)
    return invalid("v2 address family is unknown");
  if (length - kV2Fixed < addressBytes) return invalid("v2 header too short for its addresses");
  if (!readTlvs(bytes + kV2Fixed + addressBytes, length - kV2Fixed - addressBytes, header))
    return invalid("v2 TLV overruns the header");
  // LOCAL: the balancer speaks for itself (a health check); the addresses are to be ignored.
  if (command == 0 || family == 0 || family == 3) return complete(std::move(header));
  if (transport != 1) return invalid("v2 transport is not STREAM");
  const unsigned char* addresses = bytes + kV2Fixed;
  if (family == 1)
    header.source = formatSource(AF_INET, addresses, readBig16(addresses + 8));
  else
    header.source = formatSource(AF_INET6, addresses, readBig16(addresses + 32));
  return complete(std::move(header));
}

}  // namespace

ProxyParse parseProxyHeader(std::string_view received) {
  // Until a signature is complete, every prefix of one may still become it.
  std::string_view start = received.substr(0, kV2Signature.size());
  if (kV2Signature.starts_with(start) && !start.empty()) {
    if (received.size() < kV2Signature.size()) return {};
    return parseV2(received);
  }
  start = received.substr(0, kV1Signature.size());
  if (kV1Signature.starts_with(start)) {
    if (received.size() < kV1Signature.size()) return {};
    return parseV1(received);
  }
  return invalid("no PROXY protocol signature");
}

}  // namespace popgate::net
