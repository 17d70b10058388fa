#pragma once
// Client connections in total and per client address, counted across every worker thread. A
// connection over a limit is answered `-ERR [SYS/TEMP]` and closed before a session exists, so a
// flood from one address cannot take every descriptor, and the process has a known ceiling.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace popgate::server {

class ConnectionLimits {
 public:
  // 0: no limit.
  ConnectionLimits(std::size_t maxTotal, std::size_t maxPerAddress);
  // A reloaded configuration's limits (SIGHUP): they apply to new connections, counted together
  // with those of the previous configuration that still run.
  void setLimits(std::size_t maxTotal, std::size_t maxPerAddress);

  class Slot;

 private:
  struct Key {  // only ConnectionLimits makes slots
    explicit Key() = default;
  };

 public:
  // Held by a connection while it lives; the count goes down when it is destroyed.
  class Slot {
   public:
    Slot(Key, ConnectionLimits& owner, std::string address)
        : owner_(owner), address_(std::move(address)) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    ConnectionLimits& owner_;
    std::string address_;
  };

  // Null when the connection is over a limit.
  std::unique_ptr<Slot> admit(std::string_view address);
  std::size_t total() const;

 private:
  void release(const std::string& address);

  std::size_t maxTotal_;
  std::size_t maxPerAddress_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t, std::less<>> perAddress_;  // only addresses with some
};

}  // namespace popgate::server
