#pragma once
// The snapshot taken at login, packed: POP3 message numbers index it, and a session keeps it
// for its whole life, so its size per message is what a 100,000-message mailbox costs
// (issue 13: at most 64 bytes per message of the open mailbox, everything included).
//
// Two shapes, chosen when the list is made:
// - numbered: every upstream id is a number (an IMAP UID) and the UIDL is a function of it (the
//   backend's uidl_format with the mailbox's UIDVALIDITY). Only the number and the size are
//   stored, 8 bytes a message; the id and the UIDL are written when asked for.
// - strings: ids and UIDLs are stored as given (a JMAP Email id), in one arena with offsets.
// Sizes are 32-bit; the rare size of 4 GiB or more is kept aside, so every size stays exact.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace popgate::backends {

// One message of the snapshot; POP3 message numbers index the list.
struct MessageRef {
  std::string id;      // upstream identity (an IMAP UID, a JMAP id, ...)
  std::string uidl;    // RFC 1939 unique-id: stable across sessions, 1..70 chars 0x21..0x7E
  std::uint64_t size;  // exact octets of the message as RETR sends it, before dot-stuffing
};

class MessageList {
 public:
  // Appends the UIDL of the message with this number to `out`.
  using UidlWriter = std::function<void(std::string& out, std::uint32_t number)>;

  MessageList() = default;                                                 // strings
  explicit MessageList(UidlWriter uidlOf) : uidlOf_(std::move(uidlOf)) {}  // numbered

  bool numbered() const { return static_cast<bool>(uidlOf_); }
  void reserve(std::size_t count);
  void append(std::string_view id, std::string_view uidl, std::uint64_t size);  // strings
  void append(std::uint32_t number, std::uint64_t size);                        // numbered
  void shrinkToFit();  // after the last append: capacity left by growth is released
  void clear();

  std::size_t size() const { return sizes_.size(); }
  bool empty() const { return sizes_.empty(); }
  std::uint64_t octets(std::size_t index) const;
  std::uint32_t number(std::size_t index) const { return numbers_[index]; }  // numbered only
  std::string id(std::size_t index) const;
  void appendUidl(std::string& out, std::size_t index) const;
  std::string uidl(std::size_t index) const;
  MessageRef at(std::size_t index) const { return {id(index), uidl(index), octets(index)}; }

 private:
  static constexpr std::uint32_t kLargeSize = 0xFFFFFFFF;  // the size is in largeSizes_

  std::string_view piece(std::size_t slot) const;

  UidlWriter uidlOf_;
  std::vector<std::uint32_t> sizes_;
  std::vector<std::pair<std::size_t, std::uint64_t>> largeSizes_;  // (index, size), by index
  std::vector<std::uint32_t> numbers_;                             // numbered
  std::string arena_;                                              // strings: id then UIDL
  std::vector<std::size_t> ends_;  // strings: end of each piece in arena_, two a message
};

}  // namespace popgate::backends
