#include "lib/redis/RedisClient.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "lib/net/TcpListener.h"
#include "lib/redis/RedisUvEvents.h"

namespace popgate::redis {

struct RedisClient::Request {
  Done done;  // empty once cancelled
  std::unique_ptr<net::Timer> timeout;
};

namespace {

class CancelRequest final : public Cancelable {
 public:
  explicit CancelRequest(std::weak_ptr<RedisClient::Request> request)
      : request_(std::move(request)) {}
  ~CancelRequest() override {
    if (auto request = request_.lock()) request->done = nullptr;
  }

 private:
  std::weak_ptr<RedisClient::Request> request_;
};

void* asPrivdata(std::uint64_t id) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
}

Result<RedisReply> convert(const redisReply* reply) {
  // hiredis answers a command it could not send or read (connection lost, freed) with NULL.
  if (!reply) return Error{ErrorCode::Temporary, "redis connection lost"};
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
      return Error{ErrorCode::Temporary, "redis: " + std::string(reply->str, reply->len)};
    case REDIS_REPLY_STATUS:
      out.kind = RedisReply::Kind::Status;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STRING:
      out.kind = RedisReply::Kind::String;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = RedisReply::Kind::Integer;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_NIL:
      out.kind = RedisReply::Kind::Nil;
      break;
    default:
      out.kind = RedisReply::Kind::Other;
  }
  return out;
}

}  // namespace

RedisClient::RedisClient(uv_loop_t* loop, RedisSettings settings)
    : loop_(loop), settings_(std::move(settings)), executor_(loop), connectTimer_(loop) {
  connect();
}

struct RedisClient::Lookup {
  uv_getaddrinfo_t request;
  RedisClient* owner;
};

RedisClient::~RedisClient() {
  destroying_ = true;
  if (lookup_) {
    // It completes without us: its callback finds no owner.
    lookup_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_->request));
  }
  // Frees the context now: hiredis answers what is in flight with NULL (dropped below, the
  // callers are going too) and closes its poll handle through uv_close.
  if (context_) redisAsyncFree(std::exchange(context_, nullptr));
}

void RedisClient::connect() {
  if (net::parseAddress(settings_.address, settings_.port)) return connectTo(settings_.address);
  if (!untried_.empty()) {
    std::string ip = std::move(untried_.front());
    untried_.erase(untried_.begin());
    return connectTo(ip);
  }
  // A name: looked up again once its addresses were all tried, bounded by the connect timeout.
  connectTimer_.start(settings_.connectTimeout, [this] {
    if (lookup_) std::exchange(lookup_, nullptr)->owner = nullptr;
    lost("cannot resolve " + settings_.address + ": timed out");
  });
  auto lookup = std::make_unique<Lookup>();
  lookup->owner = this;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(
      loop_, &lookup->request,
      [](uv_getaddrinfo_t* request, int status, addrinfo* result) {
        std::unique_ptr<Lookup> done(reinterpret_cast<Lookup*>(request));
        if (done->owner) done->owner->lookedUp(status, result);
        uv_freeaddrinfo(result);
      },
      settings_.address.c_str(), nullptr, &hints);
  if (rc != 0) return lost("cannot resolve " + settings_.address + ": " + uv_strerror(rc));
  lookup_ = lookup.release();
}

void RedisClient::lookedUp(int status, addrinfo* result) {
  lookup_ = nullptr;
  connectTimer_.stop();
  if (status < 0) return lost("cannot resolve " + settings_.address + ": " + uv_strerror(status));
  for (addrinfo* entry = result; entry; entry = entry->ai_next) {
    char ip[INET6_ADDRSTRLEN] = "";
    if (entry->ai_family == AF_INET6) {
      uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(entry->ai_addr), ip, sizeof ip);
    } else if (entry->ai_family == AF_INET) {
      uv_ip4_name(reinterpret_cast<const sockaddr_in*>(entry->ai_addr), ip, sizeof ip);
    }
    if (ip[0] && std::find(untried_.begin(), untried_.end(), ip) == untried_.end())
      untried_.emplace_back(ip);
  }
  if (untried_.empty()) return lost("cannot resolve " + settings_.address + ": no address");
  connect();
}

void RedisClient::connectTo(const std::string& ip) {
  redisAsyncContext* context = redisAsyncConnect(ip.c_str(), settings_.port);
  if (!context) return lost("cannot allocate a connection");
  if (context->err || attachToLoop(context, loop_) != REDIS_OK) {
    std::string why = context->err ? context->errstr : "cannot attach to the loop";
    redisAsyncFree(context);
    return lost(why);
  }
  context->data = this;
  redisAsyncSetConnectCallback(context, &RedisClient::onConnect);
  redisAsyncSetDisconnectCallback(context, &RedisClient::onDisconnect);
  context_ = context;
  // A non-blocking connect has no deadline of its own in hiredis 0.14.
  connectTimer_.start(settings_.connectTimeout, [this] { drop("connect timed out"); });
  // hiredis 0.14 completes the connect on the first write, so a command goes out at once: AUTH
  // (queued before any other, so it runs first) or a PING. A refused AUTH makes every later
  // command fail (NOAUTH) until the next connection: drop this one.
  std::vector<std::string> hello{"PING"};
  if (!settings_.password.empty()) hello = {"AUTH", settings_.password};
  hello_ = command(std::move(hello), [this](Result<RedisReply> reply) {
    if (!reply) return drop(reply.error().detail);
    backoff_ = std::chrono::milliseconds(100);  // only now: a wrong password keeps backing off
  });
}

void RedisClient::onConnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisClient*>(context->data);
  if (!self || self->context_ != context) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback, failing what was queued on it.
    self->context_ = nullptr;
    return self->lost(context->errstr);
  }
  self->connectTimer_.stop();
  self->untried_.clear();  // the next reconnect looks the name up again
  spdlog::info("redis {}:{} connected", self->settings_.address, self->settings_.port);
}

void RedisClient::onDisconnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisClient*>(context->data);
  if (!self || self->destroying_ || self->context_ != context) return;
  self->context_ = nullptr;  // hiredis frees it after this callback
  self->lost(status == REDIS_OK ? "connection closed" : context->errstr);
}

void RedisClient::onReply(redisAsyncContext* context, void* reply, void* privdata) {
  auto* self = static_cast<RedisClient*>(context->data);
  if (!self) return;
  self->finish(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(privdata)),
               convert(static_cast<const redisReply*>(reply)));
}

void RedisClient::drop(const std::string& why) {
  if (!context_) return;
  // Inside a hiredis callback the free is deferred until the callback returns; either way the
  // commands in flight are answered with NULL, so each caller hears Error{Temporary}.
  redisAsyncFree(std::exchange(context_, nullptr));
  lost(why);
}

void RedisClient::lost(const std::string& why) {
  if (destroying_) return;
  spdlog::warn("redis {}:{} unavailable ({}), next attempt in {} ms", settings_.address,
               settings_.port, why, backoff_.count());
  connectTimer_.start(backoff_, [this] { connect(); });
  backoff_ = std::min(backoff_ * 2, settings_.maxBackoff);
}

void RedisClient::finish(std::uint64_t id, Result<RedisReply> result) {
  auto it = inFlight_.find(id);
  if (it == inFlight_.end()) return;  // timed out before
  std::shared_ptr<Request> request = std::move(it->second);
  inFlight_.erase(it);
  if (destroying_ || !request->done) return;
  std::exchange(request->done, nullptr)(std::move(result));
}

Pending RedisClient::command(std::vector<std::string> argv, Done done) {
  bool open = context_ && !(context_->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING));
  if (open) {
    std::vector<const char*> args;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : argv) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    const std::uint64_t id = nextId_++;
    if (redisAsyncCommandArgv(context_, &RedisClient::onReply, asPrivdata(id),
                              static_cast<int>(args.size()), args.data(),
                              lengths.data()) == REDIS_OK) {
      auto request = std::make_shared<Request>();
      request->done = std::move(done);
      request->timeout = std::make_unique<net::Timer>(loop_);
      request->timeout->start(settings_.commandTimeout, [this, id] {
        finish(id, Error{ErrorCode::Temporary, "redis command timed out"});
        drop("a command timed out");
      });
      inFlight_[id] = request;
      return std::make_unique<CancelRequest>(request);
    }
  }
  return executor_.post([done = std::move(done)] {
    done(Error{ErrorCode::Temporary, "redis not connected"});
  });
}

}  // namespace popgate::redis
