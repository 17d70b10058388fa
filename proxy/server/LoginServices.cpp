#include "proxy/server/LoginServices.h"

namespace popgate::server {

namespace {
std::map<std::string, std::unique_ptr<backends::Backend>> instantiate(
    uv_loop_t* loop, const config::Config& config) {
  std::map<std::string, std::unique_ptr<backends::Backend>> out;
  for (const auto& [name, definition] : config.backends) out[name] = definition->instantiate(loop);
  return out;
}

std::map<std::string, backends::Backend*> byName(
    const std::map<std::string, std::unique_ptr<backends::Backend>>& backends) {
  std::map<std::string, backends::Backend*> out;
  for (const auto& [name, backend] : backends) out[name] = backend.get();
  return out;
}
}  // namespace

LoginServices::LoginServices(uv_loop_t* loop, const config::Config& config,
                             SharedServices& shared)
    : executor_(loop),
      backends_(instantiate(loop, config)),
      authenticator_(config.routing, byName(backends_), executor_),
      guarded_(authenticator_, shared.guard, executor_),
      locks_(shared.locks, executor_) {}

}  // namespace popgate::server
