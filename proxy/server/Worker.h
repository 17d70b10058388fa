#pragma once
// One event-loop thread with its own listeners (SO_REUSEPORT: the kernel spreads connections
// across workers), sessions and upstream connections. Workers share nothing but the mailbox
// locks; sessions never cross threads.

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/net/UvHandle.h"
#include "proxy/config/Config.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/server/Pop3Server.h"

namespace popgate::server {

class Worker {
 public:
  Worker(const config::Config& config, login::InProcessLocks& locks, int index,
         std::shared_ptr<const net::TlsServerContext> tls);
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once its listeners are bound, or failed to bind.
  Status start();
  // Both may be called from any thread; they take effect on the worker's loop.
  void stop();
  // Hands new certificates to the worker; `applied` runs on the worker thread once new
  // connections use them.
  void setTls(std::shared_ptr<const net::TlsServerContext> tls, std::function<void()> applied);

 private:
  void run(Pop3Server& server);

  const config::Config& config_;
  login::InProcessLocks& locks_;
  int index_;
  uv_loop_t loop_;
  net::UvHandle<uv_async_t> stopSignal_;
  net::UvHandle<uv_async_t> reloadSignal_;
  Pop3Server* server_ = nullptr;  // only touched on the worker thread
  std::shared_ptr<const net::TlsServerContext> initialTls_;
  std::mutex tlsMutex_;  // guards the hand-over below, between the main and the worker thread
  std::shared_ptr<const net::TlsServerContext> pendingTls_;
  std::function<void()> pendingApplied_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace popgate::server
