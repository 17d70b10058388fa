#include "proxy/main/Supervisor.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "proxy/server/LogSetup.h"

namespace popgate {

namespace {

Supervisor* owner(uv_handle_t* handle) {
  return static_cast<Supervisor*>(handle->data);
}

template <class T>
void initialized(net::UvHandle<T>& handle, void* data) {
  handle.markInitialized();
  handle.get()->data = data;
}

}  // namespace

Supervisor::Supervisor(std::string configPath, const backends::BackendRegistry& registry)
    : configPath_(std::move(configPath)), registry_(registry) {
  uv_loop_init(&loop_);
}

Supervisor::~Supervisor() {
  closeHandles();
  uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
  current_.reset();                // stops and joins every worker
  retiring_.clear();
  uv_loop_close(&loop_);
}

void Supervisor::closeHandles() {
  sigterm_.reset();
  sigint_.reset();
  sighup_.reset();
  drainedWake_.reset();
  retiredWake_.reset();
  admin_.reset();
}

int Supervisor::run(config::Config config) {
  auto shared = server::SharedServices::create(config);
  if (!shared) {
    spdlog::error("{}", shared.error().detail);
    return 1;
  }
  shared_ = std::move(shared.value());
  for (auto* signal : {&sigterm_, &sigint_, &sighup_}) {
    uv_signal_init(&loop_, signal->get());
    initialized(*signal, this);
  }
  uv_async_init(&loop_, drainedWake_.get(),
                [](uv_async_t* h) { owner(reinterpret_cast<uv_handle_t*>(h))->drained(); });
  initialized(drainedWake_, this);
  uv_async_init(&loop_, retiredWake_.get(),
                [](uv_async_t* h) { owner(reinterpret_cast<uv_handle_t*>(h))->collectRetired(); });
  initialized(retiredWake_, this);
  // Before the workers start: a SIGTERM that comes while they bind waits for uv_run below and
  // drains them all, instead of killing the process (clients may already be connected to the
  // first worker's listener).
  auto onStop = [](uv_signal_t* h, int signum) {
    owner(reinterpret_cast<uv_handle_t*>(h))->stop(signum);
  };
  uv_signal_start(sigterm_.get(), onStop, SIGTERM);
  uv_signal_start(sigint_.get(), onStop, SIGINT);
  uv_signal_start(
      sighup_.get(),
      [](uv_signal_t* h, int) { owner(reinterpret_cast<uv_handle_t*>(h))->reload(); }, SIGHUP);

  if (auto status = applyAdmin(config.admin); !status) {
    spdlog::error("admin: {}", status.error().detail);
    closeHandles();
    return 1;
  }
  auto first = start(std::make_unique<const config::Config>(std::move(config)), nullptr);
  if (!first) {
    spdlog::error("{}", first.error().detail);
    for (auto* worker : allWorkers()) worker->stop();
    closeHandles();
    return 1;
  }
  current_ = std::move(first.value());
  started_ = true;
  spdlog::info("popgate ready ({} workers)", current_->workers.size());
  uv_run(&loop_, UV_RUN_DEFAULT);
  return 0;
}

Status Supervisor::applyAdmin(const std::optional<config::AdminConfig>& admin) {
  if (!admin) {
    admin_.reset();
    adminAt_.reset();
    return Ok{};
  }
  if (admin_ && adminAt_->address == admin->address && adminAt_->port == admin->port) return Ok{};
  auto open =
      [this](const config::AdminConfig& at) -> Result<std::unique_ptr<server::AdminServer>> {
    server::AdminServer::Handlers handlers{[this] { return shared_->metrics.registry.render(); },
                                           [this] { return started_ && !draining_; }};
    auto server = std::make_unique<server::AdminServer>(&loop_, std::move(handlers));
    if (auto status = server->start(at.address, at.port); !status) return status.error();
    return server;
  };
  auto next = open(*admin);
  // The same port on another address (127.0.0.1 to 0.0.0.0, say) cannot be bound while the old
  // listener holds it: close that first, and reopen it if the new one still fails.
  if (!next && admin_ && adminAt_->port == admin->port && admin->port != 0) {
    admin_.reset();
    next = open(*admin);
    if (!next) {
      if (auto back = open(*adminAt_)) admin_ = std::move(back.value());
      if (!admin_) adminAt_.reset();
    }
  }
  if (!next) return next.error();
  admin_ = std::move(next.value());
  adminAt_ = admin;
  return Ok{};
}

Result<std::unique_ptr<Supervisor::Generation>> Supervisor::start(
    std::unique_ptr<const config::Config> config, const Generation* previous) {
  auto generation = std::make_unique<Generation>();
  generation->config = std::move(config);
  const config::Config& settings = *generation->config;
  if (settings.tls) {
    auto tls = net::TlsServerContext::create(*settings.tls);
    if (!tls) return tls.error();
    generation->tls = tls.value();
  }
  for (int i = 0; i < settings.workers; ++i) {
    // Worker i adopts the sockets of the old worker i (of worker 0 when there were fewer: one
    // socket may serve several loops). Sockets of old workers beyond the new count close with
    // them.
    std::vector<server::ListeningSocket> inherited;
    if (previous && !previous->workers.empty()) {
      const auto& old = previous->workers[static_cast<std::size_t>(i) % previous->workers.size()];
      inherited = old->listening();
    }
    auto worker = std::make_unique<server::Worker>(settings, *shared_, i, generation->tls,
                                                   std::move(inherited));
    Status status = worker->start();
    generation->workers.push_back(std::move(worker));
    if (!status) {
      // Workers that started may have accepted someone already: they retire like an old
      // generation instead of dropping their clients.
      generation->workers.pop_back();
      if (!generation->workers.empty()) retire(std::move(generation));
      return status.error();
    }
  }
  return generation;
}

void Supervisor::retire(std::unique_ptr<Generation> generation) {
  Generation* retired = generation.get();
  retired->running = retired->workers.size();
  uv_async_t* wake = retiredWake_.get();
  retiring_.push_back(std::move(generation));
  for (auto& worker : retired->workers) {
    // On the worker's thread; the generation lives until collectRetired() sees it idle.
    worker->retire([retired, wake] {
      if (--retired->running == 0) uv_async_send(wake);
    });
  }
}

void Supervisor::collectRetired() {
  std::size_t before = retiring_.size();
  retiring_.remove_if([](const std::unique_ptr<Generation>& generation) {
    return generation->running == 0;  // destroying it stops and joins its idle workers
  });
  if (retiring_.size() < before)
    spdlog::info("SIGHUP: the sessions of a previous configuration have all ended");
}

void Supervisor::reload() {
  if (draining_) {
    spdlog::warn("SIGHUP: ignored while draining");
    return;
  }
  config::LoadedConfig loaded = config::loadConfigFile(configPath_, registry_);
  for (const auto& warning : loaded.warnings) {
    spdlog::warn("SIGHUP: {}:{}: warning: {}", configPath_, warning.line, warning.message);
  }
  if (!loaded.problems.empty()) {
    for (const auto& problem : loaded.problems) {
      spdlog::error("SIGHUP: configuration not reloaded, the previous one stays: {}:{}: {}",
                    configPath_, problem.line, problem.message);
    }
    return;
  }
  auto config = std::make_unique<const config::Config>(std::move(loaded.config));
  if (auto updated = shared_->update(*config); !updated) {
    spdlog::error("SIGHUP: configuration not reloaded, the previous one stays: {}",
                  updated.error().detail);
    return;
  }
  if (auto moved = applyAdmin(config->admin); !moved) {
    shared_->update(*current_->config);
    spdlog::error("SIGHUP: configuration not reloaded, the previous one stays: admin: {}",
                  moved.error().detail);
    return;
  }
  auto next = start(std::move(config), current_.get());
  if (!next) {
    shared_->update(*current_->config);  // back to the limits of the configuration that stays
    if (auto back = applyAdmin(current_->config->admin); !back)
      spdlog::error("admin: {}", back.error().detail);
    spdlog::error("SIGHUP: configuration not reloaded, the previous one stays: {}",
                  next.error().detail);
    return;
  }
  server::applyLogSettings(next.value()->config->log);
  retire(std::exchange(current_, std::move(next.value())));
  spdlog::info(
      "SIGHUP: configuration reloaded ({} workers); sessions in progress stay on the previous "
      "one until they end",
      current_->workers.size());
}

std::vector<server::Worker*> Supervisor::allWorkers() const {
  std::vector<server::Worker*> all;
  if (current_)
    for (const auto& worker : current_->workers) all.push_back(worker.get());
  for (const auto& generation : retiring_)
    for (const auto& worker : generation->workers) all.push_back(worker.get());
  return all;
}

// SIGTERM or SIGINT: a graceful drain in every worker of every generation (docs/design.md,
// "Drain"). The signal handles stay open until the drain is over, so that a second signal ends
// the wait.
void Supervisor::stop(int signum) {
  std::vector<server::Worker*> workers = allWorkers();
  if (draining_) {
    spdlog::info("signal {}: closing the remaining sessions now", signum);
    for (auto* worker : workers) worker->closeRemaining();
    return;
  }
  draining_ = true;
  drainStart_ = std::chrono::steady_clock::now();
  // Counted on the workers' threads: the last to report its sessions logs the total, the last
  // to finish wakes this loop.
  struct Progress {
    std::atomic<std::size_t> unreported;
    std::atomic<std::size_t> sessions{0};
    std::atomic<std::size_t> running;
  };
  auto progress = std::make_shared<Progress>();
  progress->unreported = workers.size();
  progress->running = workers.size();
  long timeout = current_ ? static_cast<long>(current_->config->shutdownTimeout.count()) : 0;
  uv_async_t* wake = drainedWake_.get();
  if (workers.empty()) uv_async_send(wake);
  for (auto* worker : workers) {
    worker->drain(
        [progress, signum, timeout](std::size_t sessions) {
          progress->sessions += sessions;
          if (--progress->unreported > 0) return;
          spdlog::info("signal {}: no longer accepting; draining (sessions: {}, timeout: {} s)",
                       signum, progress->sessions.load(), timeout);
        },
        [progress, wake] {
          if (--progress->running == 0) uv_async_send(wake);
        });
  }
}

void Supervisor::drained() {
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - drainStart_;
  spdlog::info("drained in {:.1f} s: no session left, exiting", took.count());
  for (auto* worker : allWorkers()) worker->stop();
  closeHandles();
}

}  // namespace popgate
