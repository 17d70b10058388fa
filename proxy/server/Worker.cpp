#include "server/Worker.h"

#include <spdlog/spdlog.h>

#include <future>

namespace popgate::server {

Worker::Worker(const config::Config& config, auth::MailboxLocks& locks, int index)
    : config_(config), locks_(locks), index_(index) {
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
    if (!self->server_) return;
    if (auto status = self->server_->reloadTls(); status) {
      spdlog::info("worker {}: TLS certificates reloaded", self->index_);
    } else {
      spdlog::error("worker {}: TLS reload failed, keeping the old certificates: {}", self->index_,
                    status.error().detail);
    }
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
      Pop3Server server(&loop_, config_, locks_);
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

void Worker::reloadTls() {
  if (!stopping_ && thread_.joinable()) uv_async_send(reloadSignal_.get());
}

}  // namespace popgate::server
