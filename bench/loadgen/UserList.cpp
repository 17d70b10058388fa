#include "UserList.h"

#include <fstream>

namespace loadgen {

std::optional<UserList> UserList::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  UserList list;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t space = line.find(' ');
    if (space == std::string::npos) {
      error = path + ": expected \"name password\": " + line;
      return std::nullopt;
    }
    list.accounts_.push_back({line.substr(0, space), line.substr(space + 1)});
    list.free_.push_back(static_cast<int>(list.accounts_.size() - 1));
  }
  if (list.accounts_.empty()) {
    error = path + ": no users";
    return std::nullopt;
  }
  return list;
}

std::optional<int> UserList::take() {
  if (free_.empty()) return std::nullopt;
  int index = free_.front();
  free_.pop_front();
  return index;
}

void UserList::giveBack(int index) {
  free_.push_back(index);
}

}  // namespace loadgen
