#include "lib/redis/RedisUvEvents.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

namespace popgate::redis {

namespace {

// One per context: the poll handle on its socket and the events hiredis wants. Owned through
// context->ev.data from attach until hiredis's cleanup, then by the handle until its close
// callback.
struct Events {
  redisAsyncContext* context = nullptr;  // cleared at cleanup: the context is being freed
  uv_poll_t handle{};
  int wanted = 0;
};

void onPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Events*>(handle->data);
  if (!self->context) return;
  if (status < 0) {
    // libuv has stopped the handle. Before the connection is up hiredis checks the socket's
    // error on a write event; after, a read finds the error or the end of the stream.
    self->wanted = 0;
    if (self->context->c.flags & REDIS_CONNECTED) {
      redisAsyncHandleRead(self->context);
    } else {
      redisAsyncHandleWrite(self->context);
    }
    return;
  }
  if (self->context && (events & UV_READABLE)) redisAsyncHandleRead(self->context);
  if (self->context && (events & UV_WRITABLE)) redisAsyncHandleWrite(self->context);
}

void update(Events* self, int wanted) {
  self->wanted = wanted;
  if (wanted) {
    uv_poll_start(&self->handle, wanted, onPoll);
  } else {
    uv_poll_stop(&self->handle);
  }
}

void addRead(void* data) {
  auto* self = static_cast<Events*>(data);
  update(self, self->wanted | UV_READABLE);
}
void delRead(void* data) {
  auto* self = static_cast<Events*>(data);
  update(self, self->wanted & ~UV_READABLE);
}
void addWrite(void* data) {
  auto* self = static_cast<Events*>(data);
  update(self, self->wanted | UV_WRITABLE);
}
void delWrite(void* data) {
  auto* self = static_cast<Events*>(data);
  update(self, self->wanted & ~UV_WRITABLE);
}

void cleanup(void* data) {
  auto* self = static_cast<Events*>(data);
  self->context = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&self->handle), [](uv_handle_t* handle) {
    std::unique_ptr<Events> owned(static_cast<Events*>(handle->data));  // freed here
  });
}

}  // namespace

int attachToLoop(redisAsyncContext* context, uv_loop_t* loop) {
  if (context->ev.data) return REDIS_ERR;
  auto events = std::make_unique<Events>();
  if (uv_poll_init(loop, &events->handle, context->c.fd) != 0) return REDIS_ERR;
  events->context = context;
  events->handle.data = events.get();
  context->ev.addRead = addRead;
  context->ev.delRead = delRead;
  context->ev.addWrite = addWrite;
  context->ev.delWrite = delWrite;
  context->ev.cleanup = cleanup;
  context->ev.data = events.release();  // back in a unique_ptr in the close callback
  return REDIS_OK;
}

}  // namespace popgate::redis
