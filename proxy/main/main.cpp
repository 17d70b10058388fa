// popgate: a POP3 gateway in front of mail stores that no longer speak POP3.
//   popgate --config FILE         run
//   popgate --check-config FILE   validate, print each problem with its line, exit non-zero if any

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include "backends/builtin/BuiltinBackends.h"
#include "lib/net/UvHandle.h"
#include "proxy/config/Config.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/server/Worker.h"

namespace {

using popgate::config::LoadedConfig;

void printProblems(const std::string& path, const LoadedConfig& loaded) {
  for (const auto& warning : loaded.warnings) {
    std::fprintf(stderr, "%s:%d: warning: %s\n", path.c_str(), warning.line,
                 warning.message.c_str());
  }
  for (const auto& problem : loaded.problems) {
    std::fprintf(stderr, "%s:%d: error: %s\n", path.c_str(), problem.line, problem.message.c_str());
  }
}

// Every session holds two sockets; Debian's default soft limit (1024) would silently cap a
// gateway at about 500 sessions. Raise the soft limit to the hard one, as servers do.
void raiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t wanted = limit.rlim_max;
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise the descriptor limit to {}", wanted);
    return;
  }
  spdlog::info("descriptor limit raised to {}", wanted);
}

int run(const popgate::config::Config& config) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("popgate"));
  spdlog::set_level(spdlog::level::from_str(config.log.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  std::signal(SIGPIPE, SIG_IGN);
  raiseDescriptorLimit();

  std::shared_ptr<const popgate::net::TlsServerContext> tls;
  if (config.tls) {
    auto context = popgate::net::TlsServerContext::create(*config.tls);
    if (!context) {
      spdlog::error("{}", context.error().detail);
      return 1;
    }
    tls = context.value();
  }
  popgate::login::InProcessLocks locks;
  std::vector<std::unique_ptr<popgate::server::Worker>> workers;
  for (int i = 0; i < config.workers; ++i) {
    auto worker = std::make_unique<popgate::server::Worker>(config, locks, i, tls);
    if (auto status = worker->start(); !status) {
      spdlog::error("{}", status.error().detail);
      return 1;  // destroying the workers stops and joins them
    }
    workers.push_back(std::move(worker));
  }

  // The main thread only waits for signals and passes them on to the workers.
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    popgate::net::UvHandle<uv_signal_t> sigterm;
    popgate::net::UvHandle<uv_signal_t> sigint;
    popgate::net::UvHandle<uv_signal_t> sighup;
    struct SignalContext {
      const popgate::config::Config* config;
      std::vector<std::unique_ptr<popgate::server::Worker>>* workers;
      popgate::net::UvHandle<uv_signal_t>* handles[3];
    } context{&config, &workers, {&sigterm, &sigint, &sighup}};
    for (auto* handle : context.handles) {
      uv_signal_init(&loop, handle->get());
      handle->markInitialized();
      handle->get()->data = &context;
    }
    auto onStop = [](uv_signal_t* handle, int signum) {
      auto* ctx = static_cast<SignalContext*>(handle->data);
      spdlog::info("signal {}: stopping", signum);
      for (auto& worker : *ctx->workers) worker->stop();
      for (auto* h : ctx->handles) h->reset();
    };
    uv_signal_start(sigterm.get(), onStop, SIGTERM);
    uv_signal_start(sigint.get(), onStop, SIGINT);
    // SIGHUP re-reads the TLS certificates; sessions in progress keep theirs.
    uv_signal_start(
        sighup.get(),
        [](uv_signal_t* handle, int) {
          auto* ctx = static_cast<SignalContext*>(handle->data);
          if (!ctx->config->tls) return;
          // Load once here: a bad file leaves every worker on the old certificates.
          auto fresh = popgate::net::TlsServerContext::create(*ctx->config->tls);
          if (!fresh) {
            spdlog::error("SIGHUP: TLS reload failed, keeping the old certificates: {}",
                          fresh.error().detail);
            return;
          }
          // Logged once the last worker uses the new certificates.
          auto remaining = std::make_shared<std::atomic<std::size_t>>(ctx->workers->size());
          for (auto& worker : *ctx->workers) {
            worker->setTls(fresh.value(), [remaining] {
              if (--*remaining == 0) spdlog::info("SIGHUP: TLS certificates reloaded");
            });
          }
        },
        SIGHUP);
    spdlog::info("popgate ready ({} workers)", workers.size());
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks of the signal handles
  uv_loop_close(&loop);
  workers.clear();  // joins
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const popgate::backends::BackendRegistry registry = popgate::backends::builtinBackends();
  CLI::App app{"popgate: a POP3 gateway in front of mail stores (backend types: " +
               registry.typeList() + ")"};
  std::string configPath;
  std::string checkPath;
  auto* runOption = app.add_option("--config", configPath, "Run with this configuration file");
  auto* checkOption =
      app.add_option("--check-config", checkPath, "Validate this configuration file and exit");
  runOption->excludes(checkOption);
  CLI11_PARSE(app, argc, argv);

  if (!checkPath.empty()) {
    LoadedConfig loaded = popgate::config::loadConfigFile(checkPath, registry);
    printProblems(checkPath, loaded);
    if (!loaded.problems.empty()) return 1;
    std::printf("%s: configuration is valid\n", checkPath.c_str());
    return 0;
  }
  if (configPath.empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  LoadedConfig loaded = popgate::config::loadConfigFile(configPath, registry);
  printProblems(configPath, loaded);
  if (!loaded.problems.empty()) return 1;
  return run(loaded.config);
}
