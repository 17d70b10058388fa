#pragma once
// Tests speak of snapshots as plain vectors of MessageRef; these convert to and from the packed
// MessageList that Mailbox::open delivers.

#include <vector>

#include "backends/mailbox/MessageList.h"
#include "lib/common/Result.h"

namespace popgate::fakes {

inline backends::MessageList listOf(const std::vector<backends::MessageRef>& refs) {
  backends::MessageList list;
  for (const backends::MessageRef& ref : refs) list.append(ref.id, ref.uidl, ref.size);
  return list;
}

inline std::vector<backends::MessageRef> refsOf(const backends::MessageList& list) {
  std::vector<backends::MessageRef> refs;
  for (std::size_t i = 0; i < list.size(); ++i) refs.push_back(list.at(i));
  return refs;
}

inline Result<std::vector<backends::MessageRef>> refsOf(const Result<backends::MessageList>& list) {
  if (!list) return list.error();
  return refsOf(list.value());
}

}  // namespace popgate::fakes
