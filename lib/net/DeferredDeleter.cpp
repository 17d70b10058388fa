#include "lib/net/DeferredDeleter.h"

namespace popgate::net {

DeferredDeleter::DeferredDeleter(uv_loop_t* loop) {
  uv_idle_init(loop, idle_.get());
  idle_.markInitialized();
  idle_.get()->data = this;
}

DeferredDeleter::~DeferredDeleter() {
  flush();
}

void DeferredDeleter::schedule() {
  // An idle handle, not a check handle: it also keeps the loop from blocking in poll.
  uv_idle_start(idle_.get(), [](uv_idle_t* h) {
    auto* self = static_cast<DeferredDeleter*>(h->data);
    if (self) self->flush();
  });
}

void DeferredDeleter::flush() {
  uv_idle_stop(idle_.get());
  // Destructors may retire more objects; they wait for the next round.
  auto batch = std::move(pending_);
  pending_.clear();
  batch.clear();
}

}  // namespace popgate::net
