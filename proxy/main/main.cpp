// popgate: a POP3 gateway in front of mail stores that no longer speak POP3.
//   popgate --config FILE         run
//   popgate --check-config FILE   validate, print each problem with its line, exit non-zero if any
//   popgate --health-check H:P    exit 0 when a POP3 listener greets with +OK (HEALTHCHECK)
//   popgate --version

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "backends/builtin/BuiltinBackends.h"
#include "proxy/config/Config.h"
#include "proxy/main/Supervisor.h"
#include "proxy/server/HealthProbe.h"
#include "proxy/server/LogSetup.h"

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

// glibc gives the top of a heap back to the kernel whenever more than 128 KiB is free there,
// and serves blocks of 128 KiB or more with mmap. A relay frees message-sized buffers all the
// time (downloads read ahead, literals, TLS records), so each trim was a madvise and each reuse
// page faults the memory back in: over JMAP 0.25 madvise per message and 6.7-10.9 s/GB of
// popgate CPU, 6.2-6.7 without the trims (bench/jmap_retr_ab.py). Keep up to 4 MiB free per
// heap (one per worker) and take blocks up to 512 KiB from the heaps. An operator's
// GLIBC_TUNABLES for malloc still decides.
void keepFreedMemoryForReuse() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && std::strstr(tunables, "glibc.malloc.")) return;
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
}

int run(const std::string& configPath, const popgate::backends::BackendRegistry& registry,
        popgate::config::Config config) {
  popgate::server::setUpLogging(config.log);
  std::signal(SIGPIPE, SIG_IGN);
  raiseDescriptorLimit();
  keepFreedMemoryForReuse();
  popgate::Supervisor supervisor(configPath, registry);
  return supervisor.run(std::move(config));
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
  return run(configPath, registry, std::move(loaded.config));
}
