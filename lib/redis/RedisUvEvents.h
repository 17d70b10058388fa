#pragma once
// Attaches a hiredis asynchronous context to a libuv loop. hiredis 0.14 ships an adapter for
// this (hiredis/adapters/libuv.h), but it ignores a poll error: libuv reports a refused connect
// as an error on the poll handle and stops it, hiredis never hears of it, and the connection
// hangs until the caller's own connect timeout. This one hands the error to hiredis, which reads
// the socket's error and fails the connection (its connect or disconnect callback) at once.

#include <uv.h>

struct redisAsyncContext;

namespace popgate::redis {

// REDIS_OK or REDIS_ERR, as hiredis's own adapters answer. The poll handle is closed (uv_close)
// when hiredis frees the context.
int attachToLoop(redisAsyncContext* context, uv_loop_t* loop);

}  // namespace popgate::redis
