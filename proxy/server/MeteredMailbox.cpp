#include "proxy/server/MeteredMailbox.h"

#include <chrono>
#include <utility>

#include "lib/common/LogContext.h"
#include "proxy/server/RelayingMailbox.h"

namespace popgate::server {

namespace {
using Clock = std::chrono::steady_clock;
const char* const kKinds[] = {"open", "retrieve", "commit"};
const char* const kResults[] = {"ok", "auth", "temporary", "permanent", "gone"};
}  // namespace

struct MeteredBackend::Meters {
  enum Kind { Open, Retrieve, Commit };
  ServerMetrics& metrics;
  std::string backend;
  metrics::Histogram* seconds[3];
  metrics::Counter& bytes;
  metrics::Counter& deleted;

  Meters(ServerMetrics& m, std::string name)
      : metrics(m),
        backend(std::move(name)),
        bytes(m.upstreamBytes.labels({backend})),
        deleted(m.deleted.labels({backend})) {
    for (int kind = 0; kind < 3; ++kind) {
      seconds[kind] = &m.upstreamSeconds.labels({backend, kKinds[kind]});
      // The common outcomes from the start, so that a rate() over them has a baseline.
      for (const char* result : kResults) m.upstream.labels({backend, kKinds[kind], result});
    }
  }

  void record(Kind kind, const Error* error, Clock::time_point start) const {
    seconds[kind]->observe(secondsSince(start));
    metrics.upstream.labels({backend, kKinds[kind], std::string(resultLabel(error))}).inc();
  }
};

namespace {

using Meters = MeteredBackend::Meters;

class MeteredMailbox final : public RelayingMailbox {
 public:
  MeteredMailbox(std::unique_ptr<backends::Mailbox> inner, std::shared_ptr<const Meters> meters)
      : RelayingMailbox(std::move(inner)), meters_(std::move(meters)) {}

  void open(const backends::Credentials& credentials, SnapshotDone done) override {
    if (LogContext* context = LogScope::current()) context->backend = meters_->backend;
    Clock::time_point start = Clock::now();
    inner().open(credentials, [this, start, done = std::move(done)](
                                  Result<backends::MessageList> snapshot) mutable {
      meters_->record(Meters::Open, snapshot ? nullptr : &snapshot.error(), start);
      done(std::move(snapshot));
    });
  }

  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override {
    Clock::time_point start = Clock::now();
    std::size_t count = toDelete.size();
    inner().commit(toDelete, [this, start, count, done = std::move(done)](Status status) {
      const Error* error = status ? nullptr : &status.error();
      meters_->record(Meters::Commit, error, start);
      meters_->metrics.commits.labels({meters_->backend, std::string(resultLabel(error))}).inc();
      if (status) meters_->deleted.inc(count);
      done(std::move(status));
    });
  }

 private:
  void onBodyStart() override { sink().onBodyStart(); }
  void onBodyData(std::string_view bytes) override {
    meters_->bytes.inc(bytes.size());
    sink().onBodyData(bytes);
  }
  void onBodyEnd(Status status) override {
    meters_->record(Meters::Retrieve, status ? nullptr : &status.error(), retrieveStart());
    sink().onBodyEnd(std::move(status));
  }

  std::shared_ptr<const Meters> meters_;
};

}  // namespace

MeteredBackend::MeteredBackend(std::unique_ptr<backends::Backend> inner, std::string name,
                               ServerMetrics& metrics)
    : inner_(std::move(inner)), meters_(std::make_shared<Meters>(metrics, std::move(name))) {}

std::unique_ptr<backends::Mailbox> MeteredBackend::wrap(std::unique_ptr<backends::Mailbox> inner) {
  if (!inner) return nullptr;
  return std::make_unique<MeteredMailbox>(std::move(inner), meters_);
}

std::unique_ptr<backends::Mailbox> MeteredBackend::newMailbox() {
  return wrap(inner_->newMailbox());
}

std::unique_ptr<backends::Mailbox> MeteredBackend::newMailboxAt(const std::string& host,
                                                                std::uint16_t port) {
  return wrap(inner_->newMailboxAt(host, port));
}

}  // namespace popgate::server
