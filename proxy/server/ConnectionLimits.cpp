#include "proxy/server/ConnectionLimits.h"

namespace popgate::server {

ConnectionLimits::ConnectionLimits(std::size_t maxTotal, std::size_t maxPerAddress)
    : maxTotal_(maxTotal), maxPerAddress_(maxPerAddress) {}

void ConnectionLimits::setLimits(std::size_t maxTotal, std::size_t maxPerAddress) {
  std::lock_guard lock(mutex_);
  maxTotal_ = maxTotal;
  maxPerAddress_ = maxPerAddress;
}

ConnectionLimits::Slot::~Slot() {
  owner_.release(address_);
}

std::unique_ptr<ConnectionLimits::Slot> ConnectionLimits::admit(std::string_view address) {
  std::lock_guard lock(mutex_);
  if (maxTotal_ && total_ >= maxTotal_) return nullptr;
  auto it = perAddress_.find(address);
  std::size_t here = it == perAddress_.end() ? 0 : it->second;
  if (maxPerAddress_ && here >= maxPerAddress_) return nullptr;
  if (it == perAddress_.end()) it = perAddress_.emplace(std::string(address), 0).first;
  ++it->second;
  ++total_;
  return std::make_unique<Slot>(Key{}, *this, std::string(address));
}

std::size_t ConnectionLimits::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimits::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  auto it = perAddress_.find(address);
  if (it != perAddress_.end() && --it->second == 0) perAddress_.erase(it);
}

}  // namespace popgate::server
