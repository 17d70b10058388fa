#pragma once
// Something a worker runs on its loop: the POP3 listeners and their connections today, the admin
// endpoint later. The worker knows its services only through this interface, so that a new one
// is a new class and one line where the worker builds its list.
//
// Contract: every call comes from the worker's thread. `drained` never runs from inside drain(),
// and runs once. Destroying a service drops everything it still runs, at once.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/common/Result.h"
#include "lib/net/TlsContext.h"

namespace popgate::server {

// A listening socket, named by what it listens on ("address:port"), handed from one configuration
// to the next on SIGHUP (net::TcpListener::adopt).
struct ListeningSocket {
  std::string where;
  int fd = -1;
};

class WorkerService {
 public:
  virtual ~WorkerService() = default;

  // Binds what the service listens on.
  virtual Status start() = 0;
  // Clients being served (sessions, requests), for the drain's log line.
  virtual std::size_t activeCount() const = 0;
  // Graceful drain: stop accepting at once; what runs may finish. `drained` runs once nothing
  // of this service runs any more.
  virtual void drain(std::function<void()> drained) = 0;
  // The drain's timeout (or a second signal): end what still runs, as far as can be done safely
  // (what is already committed upstream is awaited). `drained` still reports the end.
  virtual void closeRemaining() = 0;
  // A newer configuration took over (SIGHUP): stop accepting at once, and let everything that
  // runs go on, on this configuration, until it ends by itself; then `drained` runs. A drain may
  // follow (SIGTERM during the wait) and then applies as usual.
  virtual void retire(std::function<void()> drained) = 0;
  // The sockets this service listens on, for its successor to adopt. Read after start().
  virtual std::vector<ListeningSocket> listening() const { return {}; }
};

}  // namespace popgate::server
