#pragma once
// One event-loop thread with its own services (the POP3 listeners and their sessions today;
// SO_REUSEPORT lets the kernel spread connections across workers) and upstream connections.
// Workers share nothing but SharedServices (locks, login limits, connection counts); sessions never
// cross threads.

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "lib/net/Timer.h"
#include "lib/net/UvHandle.h"
#include "proxy/config/Config.h"
#include "proxy/server/SharedServices.h"
#include "proxy/server/WorkerService.h"

namespace popgate::server {

class Worker {
 public:
  using DrainStarted = std::function<void(std::size_t active)>;
  using Drained = std::function<void()>;

  // `inherited`: the listening sockets of the worker this one replaces on SIGHUP (empty at
  // start-up), adopted by listeners on the same address and port.
  Worker(const config::Config& config, SharedServices& shared, int index,
         std::shared_ptr<const net::TlsServerContext> tls,
         std::vector<ListeningSocket> inherited = {});
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once its services listen, or failed to.
  Status start();
  // What the services listen on, for a successor (SIGHUP). Valid after start() succeeded.
  const std::vector<ListeningSocket>& listening() const { return listening_; }

  // The calls below come from one other thread (main's); they take effect on the worker's loop.
  // Drops every connection at once and ends the thread. Nothing else may be called afterwards.
  void stop();
  // Graceful drain: every service stops accepting, and what runs may go on for
  // shutdown_timeout_s; then what is left is closed (closeRemaining). On the worker thread,
  // `started` gets the number of clients at the start (the listeners are closed by then), and
  // `drained` runs once nothing runs any more; the thread ends with stop().
  void drain(DrainStarted started, Drained drained);
  // Cuts the drain's wait short (a second signal): what is left is closed now.
  void closeRemaining();
  // A successor took over the listeners (SIGHUP): stop accepting, let every session go on to its
  // end on this configuration, then `retired` runs on the worker thread. drain() may follow.
  void retire(Drained retired);

 private:
  // Worker thread only.
  Status startServices();
  void onStop();
  void onDrainSignal();
  void beginRetire(Drained retired);
  void beginDrain(DrainStarted started, Drained drained);
  void closeRemainingNow();
  void serviceDrained();
  void closeSignals();

  const config::Config& config_;
  SharedServices& shared_;
  int index_;
  uv_loop_t loop_;
  net::UvHandle<uv_async_t> stopSignal_;
  net::UvHandle<uv_async_t> drainSignal_;  // drain(), retire() and closeRemaining()
  std::shared_ptr<const net::TlsServerContext> tls_;
  std::vector<ListeningSocket> inherited_;  // until the services started
  std::vector<ListeningSocket> listening_;  // written before start() returns

  // Only touched on the worker thread.
  std::vector<std::unique_ptr<WorkerService>> services_;
  std::unique_ptr<net::Timer> drainTimer_;  // shutdown_timeout_s, from the drain's start
  bool draining_ = false;
  std::size_t servicesRunning_ = 0;  // services not yet drained
  Drained drained_;

  std::mutex mutex_;  // guards the hand-overs below, between the main and the worker thread
  bool drainRequested_ = false;
  bool retireRequested_ = false;
  Drained pendingRetired_;
  DrainStarted pendingStarted_;
  Drained pendingDrained_;
  std::atomic<bool> closeRequested_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace popgate::server
