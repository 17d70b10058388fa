// What a load balancer (or anyone in proxy_protocol_from) can send before the client's first
// byte: PROXY protocol v1 and v2 headers cut at any byte. The verdict for a prefix never changes
// once given, a complete header is within the bound and reparses alone to the same result, and
// nothing makes the parser wait past its bound.

#include <cstdint>
#include <string>

#include "FuzzInput.h"
#include "lib/net/IpNetwork.h"
#include "lib/net/ProxyProtocol.h"

using popgate::fuzz::check;
using popgate::net::kMaxProxyHeaderBytes;
using popgate::net::ProxyParse;

namespace {

void checkSource(const std::string& source) {
  if (source.empty()) return;
  std::size_t colon = source.rfind(':');
  check(colon != std::string::npos);
  std::string host = source.substr(0, colon);
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  check(popgate::net::IpNetwork::parse(host).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  std::string received;
  ProxyParse verdict;  // the first answer that was not NeedMore
  while (!input.empty() && received.size() < 4 * kMaxProxyHeaderBytes) {
    received.append(input.chunk());
    ProxyParse parse = popgate::net::parseProxyHeader(received);
    if (parse.status == ProxyParse::Status::NeedMore) {
      check(verdict.status == ProxyParse::Status::NeedMore);
      check(received.size() < kMaxProxyHeaderBytes);
      continue;
    }
    if (verdict.status == ProxyParse::Status::NeedMore) verdict = parse;
    check(parse.status == verdict.status);
    if (parse.status != ProxyParse::Status::Complete) {
      check(!parse.error.empty());
      continue;
    }
    const auto& header = parse.header;
    check(header.length > 0 && header.length <= received.size());
    check(header.length <= kMaxProxyHeaderBytes);
    check(header.source == verdict.header.source && header.length == verdict.header.length);
    check(header.clientTls == verdict.header.clientTls);
    checkSource(header.source);
    ProxyParse alone = popgate::net::parseProxyHeader(received.substr(0, header.length));
    check(alone.status == ProxyParse::Status::Complete && alone.header.length == header.length);
  }
  return 0;
}
