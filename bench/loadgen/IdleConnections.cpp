#include "IdleConnections.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace loadgen {

namespace {
constexpr double kEstablishTimeoutS = 120;
}

class IdleConnections::Client final : private Connection::Handler {
 public:
  Client(IdleConnections& owner, SSL_CTX* tls)
      : owner_(owner), connection_(owner.loop_, *this, tls) {}
  void connect() { connection_.connect(owner_.address_); }
  void close() { connection_.close(); }
  bool greeted() const { return greeted_; }

 private:
  void onConnected() override {}
  void onData(const char* data, std::size_t size) override {
    if (greeted_) return;  // nothing more is expected; ignore
    if (std::memchr(data, '\n', size)) {
      greeted_ = true;
      owner_.onGreeting(*this);
    }
  }
  void onClosed(const char* why) override {
    if (greeted_)
      owner_.onDropped(*this, why);
    else
      owner_.onFailed(*this, why);
  }

  IdleConnections& owner_;
  Connection connection_;
  bool greeted_ = false;
};

IdleConnections::IdleConnections(uv_loop_t* loop, const Options& options, sockaddr_in address)
    : loop_(loop), options_(options), address_(address), establishTimeout_(loop), holdTimer_(loop) {
  clients_.reserve(static_cast<std::size_t>(options.connections));
  int signums[3] = {SIGUSR1, SIGTERM, SIGINT};
  for (int i = 0; i < 3; ++i) {
    signals_[i] = new uv_signal_t;
    uv_signal_init(loop, signals_[i]);
    signals_[i]->data = this;
    uv_signal_start(
        signals_[i],
        [](uv_signal_t* handle, int signum) {
          static_cast<IdleConnections*>(handle->data)
              ->stop(signum == SIGUSR1 ? "signal" : "terminated");
        },
        signums[i]);
  }
}

IdleConnections::~IdleConnections() {
  for (auto* handle : signals_) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
  }
}

std::string IdleConnections::run() {
  startedAt_ = nowSeconds();
  establishTimeout_.start(kEstablishTimeoutS, [this] {
    std::fprintf(stderr, "loadgen: %d connections still without a greeting after %.0f s\n",
                 inFlight_, kEstablishTimeoutS);
    for (auto& client : clients_) {
      if (client->greeted()) continue;
      client->close();  // no callback follows
      failures_.add("no greeting");
    }
    failed_ += inFlight_;
    inFlight_ = 0;
    started_ = options_.connections;
    checkReady();
  });
  openMore();
  uv_run(loop_, UV_RUN_DEFAULT);
  JsonWriter json;
  json.beginObject()
      .field("scenario", "idle")
      .field("label", options_.label)
      .field("port", options_.port)
      .field("tls", options_.tls)
      .field("connections", options_.connections)
      .field("established", established_)
      .field("failed", failed_)
      .field("dropped_while_held", dropped_)
      .field("held_at_end", established_ - dropped_)
      .field("establish_s", readyAt_ > 0 ? readyAt_ - startedAt_ : 0.0)
      .field("held_s", readyAt_ > 0 ? stoppedAt_ - readyAt_ : 0.0)
      .field("stopped_by", stopReason_);
  failures_.write(json, "failures");
  cpu_.write(json, "loadgen_cpu", nowSeconds() - startedAt_);
  json.endObject();
  return json.text();
}

void IdleConnections::openMore() {
  SSL_CTX* tls = options_.tls ? Connection::insecureClientContext() : nullptr;
  while (!stopped_ && started_ < options_.connections && inFlight_ < options_.connectBatch) {
    clients_.push_back(std::make_unique<Client>(*this, tls));
    ++started_;
    ++inFlight_;
    clients_.back()->connect();
  }
}

void IdleConnections::onGreeting(Client&) {
  --inFlight_;
  ++established_;
  openMore();
  checkReady();
}

void IdleConnections::onFailed(Client&, const char* why) {
  --inFlight_;
  ++failed_;
  failures_.add(why);
  openMore();
  checkReady();
}

void IdleConnections::onDropped(Client&, const char* why) {
  ++dropped_;
  failures_.add(std::string("dropped: ") + why);
}

void IdleConnections::checkReady() {
  if (ready_ || stopped_ || inFlight_ > 0 || started_ < options_.connections) return;
  ready_ = true;
  readyAt_ = nowSeconds();
  establishTimeout_.stop();
  std::fprintf(stderr, "loadgen: %d of %d connections established in %.2f s; holding\n",
               established_, options_.connections, readyAt_ - startedAt_);
  if (!options_.readyFile.empty()) {
    std::ofstream(options_.readyFile) << established_ << "\n";
  }
  holdTimer_.start(options_.holdS, [this] { stop("hold elapsed"); });
}

void IdleConnections::stop(const char* why) {
  if (stopped_) return;
  stopped_ = true;
  stoppedAt_ = nowSeconds();
  stopReason_ = why;
  establishTimeout_.stop();
  holdTimer_.stop();
  for (auto* handle : signals_) uv_signal_stop(handle);
  for (auto& client : clients_) client->close();
}

}  // namespace loadgen
