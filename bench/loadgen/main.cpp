// popgate-loadgen: the POP3 load generator of popgate's benchmark (bench/run.sh).
// One scenario per run; one JSON object on stdout. See Options.cpp for the command line.

#include <arpa/inet.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "BigRetrieve.h"
#include "IdleConnections.h"
#include "ImapFetch.h"
#include "Options.h"
#include "SessionLoop.h"
#include "Stats.h"
#include "UserList.h"

namespace {

std::string runScenario(uv_loop_t* loop, const loadgen::Options& options, sockaddr_in address,
                        std::string& error) {
  using loadgen::Scenario;
  switch (options.scenario) {
    case Scenario::Poll:
    case Scenario::Bulk: {
      auto users = loadgen::UserList::load(options.usersFile, error);
      if (!users) return {};
      loadgen::SessionLoop runner(loop, options, std::move(*users), address);
      return runner.run();
    }
    case Scenario::Big: {
      loadgen::BigRetrieve runner(loop, options, address);
      return runner.run();
    }
    case Scenario::Idle: {
      loadgen::IdleConnections runner(loop, options, address);
      return runner.run();
    }
    case Scenario::ImapFetch: {
      loadgen::ImapFetch runner(loop, options, address);
      return runner.run();
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  auto options = loadgen::parseOptions(argc, argv, error);
  if (!options) {
    std::fprintf(stderr, "popgate-loadgen: %s\n\n%s", error.c_str(), loadgen::kUsage);
    return 2;
  }
  sockaddr_in address{};
  if (uv_ip4_addr(options->host.c_str(), options->port, &address) != 0) {
    std::fprintf(stderr, "popgate-loadgen: not an IPv4 address: %s\n", options->host.c_str());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::uint64_t files = loadgen::raiseFileLimit();
  if (options->scenario == loadgen::Scenario::Idle &&
      files < static_cast<std::uint64_t>(options->connections) + 64) {
    std::fprintf(stderr,
                 "popgate-loadgen: RLIMIT_NOFILE hard limit %llu is too low for %d "
                 "connections (raise it: ulimit -Hn)\n",
                 static_cast<unsigned long long>(files), options->connections);
    return 2;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  std::string report = runScenario(&loop, *options, address, error);
  // Let close callbacks run, then release the loop.
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (report.empty()) {
    std::fprintf(stderr, "popgate-loadgen: %s\n", error.c_str());
    return 2;
  }
  std::printf("%s\n", report.c_str());
  return 0;
}
