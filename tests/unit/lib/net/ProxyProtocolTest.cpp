// net::parseProxyHeader on byte transcripts of HAProxy's proxy-protocol.txt headers: every
// header is also replayed growing one byte at a time (every split a read can make), and must
// say NeedMore until its last byte and Complete with the same result then.

#include <gtest/gtest.h>

#include <string>

#include "lib/net/ProxyProtocol.h"

namespace popgate::net {
namespace {

using Status = ProxyParse::Status;

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// v2, PROXY over TCP/IPv4: 192.0.2.1:40000 -> 198.51.100.7:110, then `tlvs`.
std::string v2Inet(const std::string& tlvs = "", int verCmd = 0x21, int family = 0x11) {
  std::string addresses = bytes({192, 0, 2, 1, 198, 51, 100, 7, 0x9c, 0x40, 0, 110});
  std::size_t length = addresses.size() + tlvs.size();
  return kV2Signature +
         bytes({verCmd, family, static_cast<int>(length >> 8), static_cast<int>(length & 0xff)}) +
         addresses + tlvs;
}

// Every prefix is NeedMore, the whole is what `check` expects.
ProxyParse parseBytewise(const std::string& header) {
  for (std::size_t size = 0; size < header.size(); ++size) {
    ProxyParse partial = parseProxyHeader(std::string_view(header).substr(0, size));
    EXPECT_EQ(partial.status, Status::NeedMore) << "at " << size << " of " << header.size();
  }
  return parseProxyHeader(header);
}

TEST(ProxyProtocolTest, V1Tcp4) {
  std::string header = "PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\r\n";
  ProxyParse parse = parseBytewise(header);
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.source, "192.0.2.1:40000");
  EXPECT_EQ(parse.header.length, header.size());
  EXPECT_FALSE(parse.header.clientTls);
}

TEST(ProxyProtocolTest, V1Tcp6InTcpStreamForm) {
  ProxyParse parse = parseBytewise("PROXY TCP6 2001:db8::1 2001:db8::2 4000 110\r\n");
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.source, "[2001:db8::1]:4000");
}

TEST(ProxyProtocolTest, V1UnknownKeepsTheConnectionAddress) {
  ProxyParse parse = parseBytewise("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
  ASSERT_EQ(parse.status, Status::Complete);
  EXPECT_TRUE(parse.header.source.empty());
  EXPECT_EQ(parseProxyHeader("PROXY UNKNOWN\r\n").status, Status::Complete);
}

TEST(ProxyProtocolTest, V1ClientBytesAfterTheHeaderAreNotPartOfIt) {
  std::string header = "PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\r\n";
  ProxyParse parse = parseProxyHeader(header + "CAPA\r\n");
  ASSERT_EQ(parse.status, Status::Complete);
  EXPECT_EQ(parse.header.length, header.size());
}

TEST(ProxyProtocolTest, V1Malformed) {
  for (const char* text : {
           "PROXY TCP4 192.0.2.1 198.51.100.7 40000\r\n",        // a port missing
           "PROXY TCP4 2001:db8::1 198.51.100.7 40000 110\r\n",  // family mismatch
           "PROXY TCP4 192.0.2.1 198.51.100.7 65536 110\r\n",    // port out of range
           "PROXY TCP4 192.0.2.1 198.51.100.7 -1 110\r\n",
           "PROXY UDP4 192.0.2.1 198.51.100.7 1 110\r\n",
           "PROXY TCP4 192.0.2.1 198.51.100.7 40000 110\n",  // bare LF
           "PROXY  TCP4 192.0.2.1 198.51.100.7 40000 110\r\n",
           "USER alice\r\n",
           "proxy TCP4 192.0.2.1 198.51.100.7 40000 110\r\n",
       }) {
    EXPECT_EQ(parseProxyHeader(text).status, Status::Invalid) << text;
  }
}

TEST(ProxyProtocolTest, V1WithoutCrlfIsRefusedAt107Bytes) {
  std::string endless = "PROXY TCP4 " + std::string(200, '1');
  EXPECT_EQ(parseProxyHeader(endless.substr(0, 106)).status, Status::NeedMore);
  EXPECT_EQ(parseProxyHeader(endless.substr(0, 107)).status, Status::Invalid);
}

TEST(ProxyProtocolTest, V2Inet) {
  std::string header = v2Inet();
  ProxyParse parse = parseBytewise(header);
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.source, "192.0.2.1:40000");
  EXPECT_EQ(parse.header.length, 28u);
  EXPECT_FALSE(parse.header.clientTls);
}

TEST(ProxyProtocolTest, V2Inet6) {
  std::string addresses(36, '\0');
  addresses[0] = 0x20, addresses[1] = 0x01, addresses[2] = 0x0d,
  addresses[3] = static_cast<char>(0xb8);
  addresses[15] = 5;
  addresses[32] = 0x01, addresses[33] = 0x02;  // port 258
  std::string header = kV2Signature + bytes({0x21, 0x21, 0, 36}) + addresses;
  ProxyParse parse = parseBytewise(header);
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.source, "[2001:db8::5]:258");
}

TEST(ProxyProtocolTest, V2LocalIsTheBalancersOwnConnection) {
  // HAProxy's health checks: command LOCAL, family UNSPEC, no addresses.
  ProxyParse parse = parseBytewise(kV2Signature + bytes({0x20, 0x00, 0, 0}));
  ASSERT_EQ(parse.status, Status::Complete);
  EXPECT_TRUE(parse.header.source.empty());
  // LOCAL with addresses: they are ignored.
  parse = parseBytewise(v2Inet("", 0x20));
  ASSERT_EQ(parse.status, Status::Complete);
  EXPECT_TRUE(parse.header.source.empty());
}

TEST(ProxyProtocolTest, V2UnspecAndUnixUseTheConnectionAddress) {
  EXPECT_TRUE(parseBytewise(kV2Signature + bytes({0x21, 0x00, 0, 0})).header.source.empty());
  std::string unixHeader = kV2Signature + bytes({0x21, 0x31, 0, 216}) + std::string(216, 'x');
  ProxyParse parse = parseBytewise(unixHeader);
  ASSERT_EQ(parse.status, Status::Complete);
  EXPECT_TRUE(parse.header.source.empty());
}

TEST(ProxyProtocolTest, V2TlvsAreSkippedAndTheSslClientBitIsRead) {
  std::string uniqueId = bytes({0x05, 0, 3}) + "abc";
  std::string ssl = bytes({0x20, 0, 5, 0x01, 0, 0, 0, 0});  // client SSL, verify 0
  ProxyParse parse = parseBytewise(v2Inet(uniqueId + ssl));
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.source, "192.0.2.1:40000");
  EXPECT_TRUE(parse.header.clientTls);
  EXPECT_FALSE(parseProxyHeader(v2Inet(uniqueId)).header.clientTls);
  EXPECT_FALSE(parseProxyHeader(v2Inet(bytes({0x20, 0, 1, 0x00}))).header.clientTls);
}

TEST(ProxyProtocolTest, V2Malformed) {
  EXPECT_EQ(parseProxyHeader(v2Inet("", 0x11)).status, Status::Invalid);        // version 1
  EXPECT_EQ(parseProxyHeader(v2Inet("", 0x22)).status, Status::Invalid);        // command 2
  EXPECT_EQ(parseProxyHeader(v2Inet("", 0x21, 0x12)).status, Status::Invalid);  // DGRAM
  EXPECT_EQ(parseProxyHeader(v2Inet("", 0x21, 0x41)).status, Status::Invalid);  // family 4
  // INET needs 12 bytes of addresses.
  EXPECT_EQ(parseProxyHeader(kV2Signature + bytes({0x21, 0x11, 0, 4, 1, 2, 3, 4})).status,
            Status::Invalid);
  // A TLV that claims more than the header holds.
  EXPECT_EQ(parseProxyHeader(v2Inet(bytes({0x05, 0, 9, 'a'}))).status, Status::Invalid);
  EXPECT_EQ(parseProxyHeader(v2Inet(bytes({0x05, 0}))).status, Status::Invalid);
  // A signature that goes wrong halfway.
  EXPECT_EQ(parseProxyHeader(std::string("\r\n\r\n\0\r\nQUIX", 12)).status, Status::Invalid);
  EXPECT_EQ(parseProxyHeader("\r\nUSER").status, Status::Invalid);
}

TEST(ProxyProtocolTest, V2LongerThanTheBoundIsRefusedBeforeItArrives) {
  std::size_t length = kMaxProxyHeaderBytes;  // plus the 16 fixed bytes: over the bound
  std::string start = kV2Signature + bytes({0x21, 0x11, static_cast<int>(length >> 8),
                                            static_cast<int>(length & 0xff)});
  EXPECT_EQ(parseProxyHeader(start).status, Status::Invalid);
  std::size_t fits = kMaxProxyHeaderBytes - 16 - 12 - 3;
  std::string tlv = bytes({0x05, static_cast<int>(fits >> 8), static_cast<int>(fits & 0xff)}) +
                    std::string(fits, 'x');
  ProxyParse parse = parseProxyHeader(v2Inet(tlv));
  ASSERT_EQ(parse.status, Status::Complete) << parse.error;
  EXPECT_EQ(parse.header.length, kMaxProxyHeaderBytes);
}

TEST(ProxyProtocolTest, NothingYetIsNeedMore) {
  EXPECT_EQ(parseProxyHeader("").status, Status::NeedMore);
  EXPECT_EQ(parseProxyHeader("PRO").status, Status::NeedMore);
  EXPECT_EQ(parseProxyHeader("\r\n\r").status, Status::NeedMore);
  EXPECT_EQ(parseProxyHeader("+OK").status, Status::Invalid);
}

}  // namespace
}  // namespace popgate::net
