// popgate: a POP3 gateway in front of mail stores that no longer speak POP3.
//   popgate --config FILE         run
//   popgate --check-config FILE   validate, print each problem with its line, exit non-zero if any
//   popgate --health-check H:P    exit 0 when a POP3 listener greets with +OK (HEALTHCHECK)
//   popgate --version

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include "backends/builtin/BuiltinBackends.h"
#include "lib/net/UvHandle.h"
#include "proxy/config/Config.h"
#include "proxy/server/HealthProbe.h"
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

using popgate::net::UvHandle;
using popgate::server::Worker;

// The main thread only waits for signals and passes them on to the workers. Its loop's handles
// and what their callbacks share.
struct MainLoop {
  const popgate::config::Config* config = nullptr;
  std::vector<std::unique_ptr<Worker>>* workers = nullptr;
  popgate::server::SharedServices* shared = nullptr;
  UvHandle<uv_signal_t> sigterm;
  UvHandle<uv_signal_t> sigint;
  UvHandle<uv_signal_t> sighup;
  UvHandle<uv_async_t> drained;  // sent by the last worker thread to finish its drain
  bool draining = false;
  std::chrono::steady_clock::time_point drainStart;

  // The loop ends once these are closed.
  void close() {
    sigterm.reset();
    sigint.reset();
    sighup.reset();
    drained.reset();
  }
};

// SIGTERM or SIGINT: a graceful drain in every worker (docs/design.md, "Drain"). The signal
// handles stay open until the drain is over, so that a second signal ends the wait.
void onStopSignal(uv_signal_t* handle, int signum) {
  auto* context = static_cast<MainLoop*>(handle->data);
  if (context->draining) {
    spdlog::info("signal {}: closing the remaining sessions now", signum);
    for (auto& worker : *context->workers) worker->closeRemaining();
    return;
  }
  context->draining = true;
  context->drainStart = std::chrono::steady_clock::now();
  // Counted on the workers' threads: the last to report its sessions logs the total, the last
  // to finish wakes this loop.
  struct Progress {
    std::atomic<std::size_t> unreported;
    std::atomic<std::size_t> sessions{0};
    std::atomic<std::size_t> running;
  };
  auto progress = std::make_shared<Progress>();
  progress->unreported = context->workers->size();
  progress->running = context->workers->size();
  long timeout = static_cast<long>(context->config->shutdownTimeout.count());
  uv_async_t* wake = context->drained.get();
  for (auto& worker : *context->workers) {
    worker->drain(
        [progress, signum, timeout](std::size_t sessions) {
          progress->sessions += sessions;
          if (--progress->unreported > 0) return;
          spdlog::info("signal {}: no longer accepting; draining (sessions: {}, timeout: {} s)",
                       signum, progress->sessions.load(), timeout);
        },
        [progress, wake] {
          if (--progress->running == 0) uv_async_send(wake);
        });
  }
}

void onDrained(uv_async_t* handle) {
  auto* context = static_cast<MainLoop*>(handle->data);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - context->drainStart;
  spdlog::info("drained in {:.1f} s: no session left, exiting", took.count());
  for (auto& worker : *context->workers) worker->stop();
  context->close();
}

// SIGHUP re-reads the login files (passwd-files, refresh tokens) and the TLS certificates;
// sessions in progress keep the certificates they started with.
void onReloadSignal(uv_signal_t* handle, int) {
  auto* context = static_cast<MainLoop*>(handle->data);
  context->shared->reload();
  if (!context->config->tls) return;
  // Load once here: a bad file leaves every worker on the old certificates.
  auto fresh = popgate::net::TlsServerContext::create(*context->config->tls);
  if (!fresh) {
    spdlog::error("SIGHUP: TLS reload failed, keeping the old certificates: {}",
                  fresh.error().detail);
    return;
  }
  // Logged once the last worker uses the new certificates.
  auto remaining = std::make_shared<std::atomic<std::size_t>>(context->workers->size());
  for (auto& worker : *context->workers) {
    worker->setTls(fresh.value(), [remaining] {
      if (--*remaining == 0) spdlog::info("SIGHUP: TLS certificates reloaded");
    });
  }
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
  auto shared = popgate::server::SharedServices::create(config);
  if (!shared) {
    spdlog::error("{}", shared.error().detail);
    return 1;
  }
  std::vector<std::unique_ptr<Worker>> workers;
  int exitCode = 0;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    MainLoop context;
    context.config = &config;
    context.workers = &workers;
    context.shared = shared.value().get();
    for (auto* signal : {&context.sigterm, &context.sigint, &context.sighup}) {
      uv_signal_init(&loop, signal->get());
      signal->markInitialized();
      signal->get()->data = &context;
    }
    uv_async_init(&loop, context.drained.get(), &onDrained);
    context.drained.markInitialized();
    context.drained.get()->data = &context;
    // Before the workers start: a SIGTERM that comes while they bind waits for uv_run below and
    // drains them all, instead of killing the process (clients may already be connected to the
    // first worker's listener).
    uv_signal_start(context.sigterm.get(), &onStopSignal, SIGTERM);
    uv_signal_start(context.sigint.get(), &onStopSignal, SIGINT);
    uv_signal_start(context.sighup.get(), &onReloadSignal, SIGHUP);
    for (int i = 0; i < config.workers && exitCode == 0; ++i) {
      auto worker = std::make_unique<Worker>(config, *shared.value(), i, tls);
      if (auto status = worker->start(); !status) {
        spdlog::error("{}", status.error().detail);
        exitCode = 1;  // destroying the workers below stops and joins them
      }
      workers.push_back(std::move(worker));
    }
    if (exitCode == 0) {
      spdlog::info("popgate ready ({} workers)", workers.size());
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks of the main loop's handles
  uv_loop_close(&loop);
  workers.clear();  // joins
  return exitCode;
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
  std::string probeTarget;
  auto* probeOption = app.add_option("--health-check", probeTarget,
                                     "Exit 0 if the POP3 listener at HOST:PORT greets with +OK");
  runOption->excludes(checkOption)->excludes(probeOption);
  checkOption->excludes(probeOption);
  app.set_version_flag("--version",
                       std::string("popgate " POPGATE_VERSION " (" POPGATE_REVISION ")\nlibuv ") +
                           uv_version_string());
  CLI11_PARSE(app, argc, argv);

  if (!probeTarget.empty()) return popgate::server::runHealthCheck(probeTarget);

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
