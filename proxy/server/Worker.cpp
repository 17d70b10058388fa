#include "proxy/server/Worker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <utility>

#include "proxy/server/Pop3Server.h"

namespace popgate::server {

namespace {
// Initialised by the constructor, before the thread exists; afterwards only the worker thread
// touches the handle (uv_async_send is the one call libuv allows from other threads).
void initSignal(uv_loop_t* loop, net::UvHandle<uv_async_t>& signal, Worker* owner,
                uv_async_cb callback) {
  uv_async_init(loop, signal.get(), callback);
  signal.markInitialized();
  signal.get()->data = owner;
}

Worker* owner(uv_async_t* handle) {
  return static_cast<Worker*>(handle->data);
}
}  // namespace

Worker::Worker(const config::Config& config, SharedServices& shared, int index,
               std::shared_ptr<const net::TlsServerContext> tls,
               std::vector<ListeningSocket> inherited)
    : config_(config),
      shared_(shared),
      index_(index),
      tls_(std::move(tls)),
      inherited_(std::move(inherited)) {
  uv_loop_init(&loop_);
  initSignal(&loop_, stopSignal_, this, [](uv_async_t* h) { owner(h)->onStop(); });
  initSignal(&loop_, drainSignal_, this, [](uv_async_t* h) { owner(h)->onDrainSignal(); });
}

Worker::~Worker() {
  stop();
  if (thread_.joinable()) thread_.join();
  closeSignals();  // still open if the thread never started
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

Status Worker::start() {
  std::promise<Status> ready;
  std::future<Status> started = ready.get_future();
  thread_ = std::thread([this, &ready] {
    Status status = startServices();
    if (status) {
      ready.set_value(status);
      uv_run(&loop_, UV_RUN_DEFAULT);
    } else {
      stopping_ = true;
      closeSignals();
      ready.set_value(status);
    }
    services_.clear();
    drainTimer_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks of what the services owned
  });
  return started.get();
}

Status Worker::startServices() {
  // The one place that names the services.
  services_.push_back(
      std::make_unique<Pop3Server>(&loop_, config_, shared_, tls_, std::move(inherited_)));
  for (auto& service : services_) {
    if (Status status = service->start(); !status) return status;
    for (auto& socket : service->listening()) listening_.push_back(std::move(socket));
  }
  return Ok{};
}

void Worker::closeSignals() {
  stopSignal_.reset();
  drainSignal_.reset();
}

void Worker::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) uv_async_send(stopSignal_.get());
}

void Worker::onStop() {
  services_.clear();  // drops every connection; nothing uncommitted is deleted upstream
  drainTimer_.reset();
  closeSignals();  // the loop ends once the services' handles are closed
}

void Worker::retire(Drained retired) {
  {
    std::lock_guard guard(mutex_);
    retireRequested_ = true;
    pendingRetired_ = std::move(retired);
  }
  if (!stopping_ && thread_.joinable()) uv_async_send(drainSignal_.get());
}

void Worker::drain(DrainStarted started, Drained drained) {
  {
    std::lock_guard guard(mutex_);
    drainRequested_ = true;
    pendingStarted_ = std::move(started);
    pendingDrained_ = std::move(drained);
  }
  if (!stopping_ && thread_.joinable()) uv_async_send(drainSignal_.get());
}

void Worker::closeRemaining() {
  closeRequested_ = true;
  if (!stopping_ && thread_.joinable()) uv_async_send(drainSignal_.get());
}

void Worker::onDrainSignal() {
  // libuv may fold several uv_async_send into one call: look at both requests.
  DrainStarted started;
  Drained drained;
  Drained retired;
  bool begin = false;
  bool retire = false;
  {
    std::lock_guard guard(mutex_);
    begin = std::exchange(drainRequested_, false);
    started = std::move(pendingStarted_);
    drained = std::move(pendingDrained_);
    retire = std::exchange(retireRequested_, false);
    retired = std::move(pendingRetired_);
  }
  if (retire && !draining_) beginRetire(std::move(retired));
  if (begin && !draining_) beginDrain(std::move(started), std::move(drained));
  if (draining_ && closeRequested_.exchange(false)) closeRemainingNow();
}

void Worker::beginRetire(Drained retired) {
  // Counted like a drain, without its timeout: sessions end by themselves (QUIT, the idle and
  // login timeouts). A drain that follows replaces `drained_` and starts the timeout.
  drained_ = std::move(retired);
  servicesRunning_ = services_.size();
  for (auto& service : services_) service->retire([this] { serviceDrained(); });
}

void Worker::beginDrain(DrainStarted started, Drained drained) {
  draining_ = true;
  drained_ = std::move(drained);
  std::size_t active = 0;
  for (const auto& service : services_) active += service->activeCount();
  servicesRunning_ = services_.size();
  for (auto& service : services_) service->drain([this] { serviceDrained(); });
  if (started) started(active);  // after drain(): this worker accepts no one any more
  // One timer per worker, on its own loop: every worker starts its wait when the signal reaches
  // it. 0 s closes what is left on the next turn of the loop.
  drainTimer_ = std::make_unique<net::Timer>(&loop_);
  drainTimer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(config_.shutdownTimeout),
                     [this] { closeRemainingNow(); });
}

void Worker::closeRemainingNow() {
  if (drainTimer_) drainTimer_->stop();
  std::size_t active = 0;
  for (const auto& service : services_) active += service->activeCount();
  if (active > 0) spdlog::info("worker {}: closing the remaining sessions ({})", index_, active);
  for (auto& service : services_) service->closeRemaining();
}

void Worker::serviceDrained() {
  if (--servicesRunning_ > 0) return;
  if (drainTimer_) drainTimer_->stop();
  if (drained_) std::exchange(drained_, nullptr)();
}

}  // namespace popgate::server
