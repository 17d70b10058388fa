#include "backends/jmap/JmapSnapshots.h"

#include <algorithm>
#include <set>

namespace popgate::jmap {

std::optional<std::vector<SnapshotEntry>> applyChanges(const MailboxSnapshot& old,
                                                       const EmailChanges& changes) {
  if (changes.oldQueryState != old.queryState || changes.newQueryState.empty()) {
    return std::nullopt;
  }
  std::set<std::string> removed(changes.removed.begin(), changes.removed.end());
  // A moved email is in added without being in removed: it leaves its old place too.
  for (const AddedEmail& item : changes.added) removed.insert(item.id);
  std::vector<SnapshotEntry> kept;
  kept.reserve(old.entries.size());
  for (const SnapshotEntry& entry : old.entries) {
    if (!removed.count(entry.id)) kept.push_back(entry);
  }
  std::vector<AddedEmail> added = changes.added;
  std::stable_sort(added.begin(), added.end(),
                   [](const AddedEmail& a, const AddedEmail& b) { return a.index < b.index; });
  // Inserting in ascending index puts each one at its final position, so one merge pass does
  // it (inserting one by one would be quadratic in what a server sends).
  std::vector<SnapshotEntry> entries;
  entries.reserve(kept.size() + added.size());
  std::size_t next = 0;
  for (const AddedEmail& item : added) {
    auto got = changes.got.find(item.id);
    // Destroyed between the two calls, two at one index, or an index that is no position.
    if (got == changes.got.end() || item.index < entries.size()) return std::nullopt;
    while (entries.size() < item.index) {
      if (next == kept.size()) return std::nullopt;
      entries.push_back(std::move(kept[next++]));
    }
    entries.push_back(SnapshotEntry{item.id, got->second.first, got->second.second});
  }
  while (next < kept.size()) entries.push_back(std::move(kept[next++]));
  if (changes.total && *changes.total != entries.size()) return std::nullopt;
  std::set<std::string_view> seen;
  for (const SnapshotEntry& entry : entries) {
    if (!seen.insert(entry.id).second) return std::nullopt;
  }
  return entries;
}

std::shared_ptr<const MailboxSnapshot> JmapSnapshots::find(const std::string& user) const {
  auto it = entries_.find(user);
  return it == entries_.end() ? nullptr : it->second.snapshot;
}

void JmapSnapshots::put(const std::string& user, std::shared_ptr<const MailboxSnapshot> snapshot,
                        std::size_t maxMessages) {
  forget(user);
  std::size_t size = snapshot->entries.size();
  if (maxMessages == 0 || size > maxMessages) return;
  while (messages_ + size > maxMessages && !order_.empty()) forget(order_.front());
  order_.push_back(user);
  entries_[user] = Kept{std::move(snapshot), std::prev(order_.end())};
  messages_ += size;
}

void JmapSnapshots::touch(const std::string& user) {
  auto it = entries_.find(user);
  if (it != entries_.end()) order_.splice(order_.end(), order_, it->second.age);
}

void JmapSnapshots::forget(const std::string& user) {
  auto it = entries_.find(user);
  if (it == entries_.end()) return;
  messages_ -= it->second.snapshot->entries.size();
  order_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace popgate::jmap
