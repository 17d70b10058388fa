#include "support/ScriptedHttpServer.h"

#include <gtest/gtest.h>

#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"

namespace popgate::http::test {

class ScriptedHttpServer::Client final : public net::StreamHandler {
 public:
  Client(ScriptedHttpServer& server, int number, std::unique_ptr<net::TcpStream> stream)
      : server_(server), number_(number), stream_(std::move(stream)) {
    stream_->setHandler(this);
    stream_->startReading();
  }
  ~Client() override { stream_->setHandler(nullptr); }

  void onData(std::string_view bytes) override {
    received.append(bytes);
    input.append(bytes);
    server_.parse(*this);
  }
  void onDrained() override {}
  void onClosed(Status) override { open = false; }

  ScriptedHttpServer& server_;
  int number_;
  std::unique_ptr<net::TcpStream> stream_;
  std::string input;
  std::string received;
  bool open = true;
};

std::string ScriptedHttpServer::Request::header(std::string_view name) const {
  std::string wanted = "\r\n" + asciiLower(name) + ":";
  std::string lowered = asciiLower(head);
  std::size_t at = lowered.find(wanted);
  if (at == std::string::npos) return "";
  std::size_t start = at + wanted.size();
  std::size_t end = head.find("\r\n", start);
  std::string value = head.substr(start, end - start);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return value;
}

ScriptedHttpServer::ScriptedHttpServer(uv_loop_t* loop) : listener_(loop) {
  Status status =
      listener_.listen("127.0.0.1", 0, false, [this](auto stream) { accepted(std::move(stream)); });
  EXPECT_TRUE(status) << status.error().detail;
}

ScriptedHttpServer::~ScriptedHttpServer() = default;

std::string ScriptedHttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

void ScriptedHttpServer::accepted(std::unique_ptr<net::TcpStream> stream) {
  int number = static_cast<int>(clients_.size()) + 1;
  clients_[number] = std::make_unique<Client>(*this, number, std::move(stream));
}

void ScriptedHttpServer::send(int connection, std::string bytes) {
  auto it = clients_.find(connection);
  if (it != clients_.end() && it->second->open) it->second->stream_->write(std::move(bytes));
}

void ScriptedHttpServer::close(int connection) {
  auto it = clients_.find(connection);
  if (it != clients_.end() && it->second->open) it->second->stream_->closeAfterFlush();
}

void ScriptedHttpServer::closeAll() {
  for (auto& [number, client] : clients_) close(number);
}

int ScriptedHttpServer::openConnections() const {
  int count = 0;
  for (const auto& [number, client] : clients_) count += client->open ? 1 : 0;
  return count;
}

const std::string& ScriptedHttpServer::received(int connection) const {
  return clients_.at(connection)->received;
}

void ScriptedHttpServer::parse(Client& client) {
  for (;;) {
    std::size_t end = client.input.find("\r\n\r\n");
    if (end == std::string::npos) return;
    Request request;
    request.connection = client.number_;
    request.head = client.input.substr(0, end + 2);
    std::size_t length = 0;
    if (auto value = request.header("Content-Length"); !value.empty()) {
      length = parseDecimal<std::size_t>(value).value_or(0);
    }
    if (client.input.size() < end + 4 + length) return;
    request.body = client.input.substr(end + 4, length);
    client.input.erase(0, end + 4 + length);
    std::size_t space = request.head.find(' ');
    request.method = request.head.substr(0, space);
    request.target = request.head.substr(space + 1, request.head.find(' ', space + 1) - space - 1);
    requests_.push_back(request);
    if (script_) script_(request);
    if (request.method == "CONNECT") return;  // what follows is the tunnel's, not HTTP
  }
}

}  // namespace popgate::http::test
