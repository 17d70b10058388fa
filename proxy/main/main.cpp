// popgate: a POP3 gateway in front of IMAP mail stores.
//   popgate --config FILE         run
//   popgate --check-config FILE   validate, print each problem with its line, exit non-zero if any

#include <uv.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "auth/MailboxLocks.h"
#include "config/Config.h"
#include "net/UvHandle.h"
#include "server/Pop3Server.h"

namespace {

using popgate::config::LoadedConfig;

void printProblems(const std::string& path, const LoadedConfig& loaded) {
  for (const auto& warning : loaded.warnings) {
    std::fprintf(stderr, "%s:%d: warning: %s\n", path.c_str(), warning.line, warning.message.c_str());
  }
  for (const auto& problem : loaded.problems) {
    std::fprintf(stderr, "%s:%d: error: %s\n", path.c_str(), problem.line, problem.message.c_str());
  }
}

int run(const popgate::config::Config& config) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("popgate"));
  spdlog::set_level(spdlog::level::from_str(config.log.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  std::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exitCode = 0;
  {
    popgate::auth::MailboxLocks locks;
    popgate::server::Pop3Server server(&loop, config, locks);
    if (auto status = server.start(); !status) {
      spdlog::error("{}", status.error().detail);
      exitCode = 1;
    } else {
      popgate::net::UvHandle<uv_signal_t> sigterm;
      popgate::net::UvHandle<uv_signal_t> sigint;
      popgate::net::UvHandle<uv_signal_t> sighup;
      struct StopContext {
        popgate::server::Pop3Server* server;
        popgate::net::UvHandle<uv_signal_t>* handles[3];
      } stop{&server, {&sigterm, &sigint, &sighup}};
      for (auto* handle : stop.handles) {
        uv_signal_init(&loop, handle->get());
        handle->markInitialized();
        handle->get()->data = &stop;
      }
      auto onSignal = [](uv_signal_t* handle, int signum) {
        auto* context = static_cast<StopContext*>(handle->data);
        spdlog::info("signal {}: stopping", signum);
        context->server->stop();
        for (auto* h : context->handles) h->reset();
      };
      uv_signal_start(sigterm.get(), onSignal, SIGTERM);
      uv_signal_start(sigint.get(), onSignal, SIGINT);
      // SIGHUP re-reads the TLS certificates; sessions in progress keep theirs.
      uv_signal_start(
          sighup.get(),
          [](uv_signal_t* handle, int) {
            auto* context = static_cast<StopContext*>(handle->data);
            if (auto reloaded = context->server->reloadTls(); reloaded) {
              spdlog::info("SIGHUP: TLS certificates reloaded");
            } else {
              spdlog::error("SIGHUP: TLS reload failed, keeping the old certificates: {}",
                            reloaded.error().detail);
            }
          },
          SIGHUP);
      spdlog::info("popgate ready");
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  // Let close callbacks of everything destroyed above run, then release the loop.
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return exitCode;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"popgate: a POP3 gateway in front of IMAP mail stores"};
  std::string configPath;
  std::string checkPath;
  auto* runOption = app.add_option("--config", configPath, "Run with this configuration file");
  auto* checkOption =
      app.add_option("--check-config", checkPath, "Validate this configuration file and exit");
  runOption->excludes(checkOption);
  CLI11_PARSE(app, argc, argv);

  if (!checkPath.empty()) {
    LoadedConfig loaded = popgate::config::loadConfigFile(checkPath);
    printProblems(checkPath, loaded);
    if (!loaded.problems.empty()) return 1;
    std::printf("%s: configuration is valid\n", checkPath.c_str());
    return 0;
  }
  if (configPath.empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  LoadedConfig loaded = popgate::config::loadConfigFile(configPath);
  printProblems(configPath, loaded);
  if (!loaded.problems.empty()) return 1;
  return run(loaded.config);
}
