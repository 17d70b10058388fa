#include "proxy/server/Worker.h"

#include <spdlog/spdlog.h>

#include <future>

namespace popgate::server {

Worker::Worker(const config::Config& config, login::InProcessLocks& locks, int index,
               std::shared_ptr<const net::TlsServerContext> tls)
    : config_(config), locks_(locks), index_(index), initialTls_(std::move(tls)) {
  uv_loop_init(&loop_);
  // Initialised here, before the thread exists; afterwards only the worker thread touches them
  // (uv_async_send is the one call libuv allows from other threads).
  uv_async_init(&loop_, stopSignal_.get(), [](uv_async_t* handle) {
    auto* self = static_cast<Worker*>(handle->data);
    if (self->server_) self->server_->stop();
    self->stopSignal_.reset();
    self->reloadSignal_.reset();
  });
  stopSignal_.markInitialized();
  stopSignal_.get()->data = this;
  uv_async_init(&loop_, reloadSignal_.get(), [](uv_async_t* handle) {
    auto* self = static_cast<Worker*>(handle->data);
    std::shared_ptr<const net::TlsServerContext> fresh;
    std::function<void()> applied;
    {
      std::lock_guard guard(self->tlsMutex_);
      fresh = std::move(self->pendingTls_);
      applied = std::move(self->pendingApplied_);
    }
    if (self->server_ && fresh) self->server_->setTls(std::move(fresh));
    if (applied) applied();
  });
  reloadSignal_.markInitialized();
  reloadSignal_.get()->data = this;
}

Worker::~Worker() {
  stop();
  if (thread_.joinable()) thread_.join();
  if (!thread_.joinable() && stopSignal_.get()) {
    // Never started: close the handles on this thread and let their close callbacks run.
    stopSignal_.reset();
    reloadSignal_.reset();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

Status Worker::start() {
  std::promise<Status> ready;
  std::future<Status> started = ready.get_future();
  thread_ = std::thread([this, &ready] {
    Status status = Ok{};
    {
      Pop3Server server(&loop_, config_, locks_, initialTls_);
      status = server.start();
      if (status) {
        server_ = &server;
        ready.set_value(status);
        uv_run(&loop_, UV_RUN_DEFAULT);
        server_ = nullptr;
      }
    }
    if (!status) {
      stopping_ = true;
      stopSignal_.reset();
      reloadSignal_.reset();
      ready.set_value(status);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks of what the server owned
  });
  return started.get();
}

void Worker::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) uv_async_send(stopSignal_.get());
}

void Worker::setTls(std::shared_ptr<const net::TlsServerContext> tls,
                    std::function<void()> applied) {
  {
    std::lock_guard guard(tlsMutex_);
    pendingTls_ = std::move(tls);
    pendingApplied_ = std::move(applied);
  }
  if (!stopping_ && thread_.joinable()) uv_async_send(reloadSignal_.get());
}

}  // namespace popgate::server
