#pragma once
// A scripted Redis on 127.0.0.1:0 for the faults a real server will not produce on demand: reads
// RESP arrays of bulk strings (what hiredis sends), records them, and answers each with the
// script's bytes (nullopt: no answer at all).

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/TcpListener.h"
#include "lib/net/TcpStream.h"

namespace popgate::test {

class ScriptedRedis final : private net::StreamHandler {
 public:
  using Command = std::vector<std::string>;
  using Script = std::function<std::optional<std::string>(const Command&)>;
  explicit ScriptedRedis(uv_loop_t* loop, Script script)
      : listener_(loop), script_(std::move(script)) {
    Status status = listener_.listen("127.0.0.1", 0, false, [this](auto stream) {
      client_ = std::move(stream);
      client_->setHandler(this);
      client_->startReading();
    });
    EXPECT_TRUE(status);
  }
  ~ScriptedRedis() override {
    if (client_) client_->setHandler(nullptr);
  }
  int port() const { return listener_.boundPort(); }
  const std::vector<Command>& commands() const { return commands_; }
  bool saw(const std::string& verb, const std::string& arg) const {
    for (const Command& c : commands_)
      if (c[0] == verb && std::find(c.begin(), c.end(), arg) != c.end()) return true;
    return false;
  }

 private:
  void onData(std::string_view bytes) override {
    input_.append(bytes);
    while (auto command = parse()) {
      commands_.push_back(*command);
      if (auto reply = script_(*command)) client_->write(*reply);
    }
  }
  void onDrained() override {}
  void onClosed(Status) override {}

  std::optional<Command> parse() {
    std::size_t at = 0;
    auto line = [&]() -> std::optional<std::string> {
      std::size_t end = input_.find("\r\n", at);
      if (end == std::string::npos) return std::nullopt;
      std::string out = input_.substr(at, end - at);
      at = end + 2;
      return out;
    };
    auto count = line();
    if (!count) return std::nullopt;
    Command command;
    for (int n = std::stoi(count->substr(1)); n > 0; --n) {
      auto length = line();
      if (!length) return std::nullopt;
      std::size_t size = std::stoul(length->substr(1));
      if (input_.size() < at + size + 2) return std::nullopt;
      command.push_back(input_.substr(at, size));
      at += size + 2;
    }
    input_.erase(0, at);
    return command;
  }

  net::TcpListener listener_;
  std::unique_ptr<net::TcpStream> client_;
  Script script_;
  std::string input_;
  std::vector<Command> commands_;
};

}  // namespace popgate::test
