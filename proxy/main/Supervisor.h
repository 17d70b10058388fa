#pragma once
// The main thread: it owns the workers and answers the signals (docs/design.md, "Reload" and
// "Drain").
// - SIGTERM/SIGINT drain every worker; a second one closes what is left.
// - SIGHUP reads the configuration file again. Invalid: the problems are logged with their
//   lines and everything goes on as before. Valid: a new generation of workers starts on it,
//   adopting the listening sockets of the old one (no client refused or dropped), and the old
//   generation retires: it accepts no one, and each of its sessions goes on, on the
//   configuration it started with, until it ends. The mailbox locks, connection counts and
//   failed-login records (SharedServices) span the generations. The admin listener (metrics,
//   health) and the log level and format belong to the main thread and change at once.

#include <uv.h>

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/UvHandle.h"
#include "proxy/config/Config.h"
#include "proxy/server/AdminServer.h"
#include "proxy/server/SharedServices.h"
#include "proxy/server/Worker.h"

namespace popgate {

class Supervisor {
 public:
  Supervisor(std::string configPath, const backends::BackendRegistry& registry);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the workers on `config` and runs until the drain ends; the process's exit code.
  int run(config::Config config);

 private:
  // One configuration and the workers that run it.
  struct Generation {
    std::unique_ptr<const config::Config> config;
    std::shared_ptr<const net::TlsServerContext> tls;
    std::vector<std::unique_ptr<server::Worker>> workers;
    std::atomic<std::size_t> running{0};  // workers of a retired generation not yet idle
  };

  // Starts the workers of `config`, adopting the listeners of `previous` when there is one. On
  // failure the workers that started are retired into retiring_ and the error is returned.
  Result<std::unique_ptr<Generation>> start(std::unique_ptr<const config::Config> config,
                                            const Generation* previous);
  void retire(std::unique_ptr<Generation> generation);
  void reload();
  // The admin listener `admin` asks for: kept when its address and port stay (scrapes see no
  // gap), moved when they change, closed when the block is gone. An error (the new address
  // cannot be bound) leaves the listener as it was.
  Status applyAdmin(const std::optional<config::AdminConfig>& admin);
  void stop(int signum);
  void drained();
  void collectRetired();
  std::vector<server::Worker*> allWorkers() const;
  void closeHandles();

  std::string configPath_;
  const backends::BackendRegistry& registry_;
  uv_loop_t loop_;
  std::unique_ptr<server::SharedServices> shared_;
  std::unique_ptr<Generation> current_;
  std::list<std::unique_ptr<Generation>> retiring_;
  net::UvHandle<uv_signal_t> sigterm_;
  net::UvHandle<uv_signal_t> sigint_;
  net::UvHandle<uv_signal_t> sighup_;
  net::UvHandle<uv_async_t> drainedWake_;       // the last worker to finish its drain
  net::UvHandle<uv_async_t> retiredWake_;       // the last worker of a retired generation
  std::unique_ptr<server::AdminServer> admin_;  // admin: /metrics, /healthz, /readyz
  std::optional<config::AdminConfig> adminAt_;  // where admin_ listens
  bool started_ = false;                        // every worker of the first generation listens
  bool draining_ = false;
  std::chrono::steady_clock::time_point drainStart_;
};

}  // namespace popgate
