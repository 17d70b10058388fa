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

  Worker(const config::Config& config, SharedServices& shared, int index,
         std::shared_ptr<const net::TlsServerContext> tls);
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once its services listen, or failed to.
  Status start();

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
  // Hands new certificates to the worker; `applied` runs on the worker thread once new
  // connections use them.
  void setTls(std::shared_ptr<const net::TlsServerContext> tls, std::function<void()> applied);

 private:
  // Worker thread only.
  Status startServices();
  void onStop();
  void onReload();
  void onDrainSignal();
  void beginDrain(DrainStarted started, Drained drained);
  void closeRemainingNow();
  void serviceDrained();
  void closeSignals();

  const config::Config& config_;
  SharedServices& shared_;
  int index_;
  uv_loop_t loop_;
  net::UvHandle<uv_async_t> stopSignal_;
  net::UvHandle<uv_async_t> reloadSignal_;
  net::UvHandle<uv_async_t> drainSignal_;  // drain() and closeRemaining()
  std::shared_ptr<const net::TlsServerContext> initialTls_;

  // Only touched on the worker thread.
  std::vector<std::unique_ptr<WorkerService>> services_;
  std::unique_ptr<net::Timer> drainTimer_;  // shutdown_timeout_s, from the drain's start
  bool draining_ = false;
  std::size_t servicesRunning_ = 0;  // services not yet drained
  Drained drained_;

  std::mutex mutex_;  // guards the hand-overs below, between the main and the worker thread
  std::shared_ptr<const net::TlsServerContext> pendingTls_;
  std::function<void()> pendingApplied_;
  bool drainRequested_ = false;
  DrainStarted pendingStarted_;
  Drained pendingDrained_;
  std::atomic<bool> closeRequested_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace popgate::server
