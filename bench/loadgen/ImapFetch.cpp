#include "ImapFetch.h"

#include <charconv>
#include <cstring>

namespace loadgen {

namespace {
// An IMAP quoted string (RFC 3501 §4.3).
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

ImapFetch::ImapFetch(uv_loop_t* loop, const Options& options, sockaddr_in address)
    : loop_(loop),
      options_(options),
      address_(address),
      connection_(loop, *this),
      limiter_(loop, options.readRate),
      timeout_(loop) {
  line_.reserve(1024);
}

std::string ImapFetch::run() {
  double started = nowSeconds();
  timeout_.start(options_.sessionTimeoutS, [this] { finish("timeout"); });
  connection_.connect(address_);
  uv_run(loop_, UV_RUN_DEFAULT);
  bool ok = error_.empty() && fetchEndedAt_ > 0;
  double fetch = fetchEndedAt_ - fetchStartedAt_;
  JsonWriter json;
  json.beginObject()
      .field("scenario", "imap-fetch")
      .field("label", options_.label)
      .field("port", options_.port)
      .field("ok", ok)
      .field("error", error_)
      .field("read_rate", options_.readRate)
      .field("message_bytes", literalBytes_)
      .field("wire_bytes", wireBytes_)
      .field("retr_s", ok ? fetch : 0.0)
      .field("mb_per_s", ok && fetch > 0 ? static_cast<double>(literalBytes_) / fetch / 1e6 : 0.0);
  cpu_.write(json, "loadgen_cpu", nowSeconds() - started);
  json.endObject();
  return json.text();
}

void ImapFetch::onData(const char* data, std::size_t size) {
  wireBytes_ += size;
  if (step_ == Step::Fetch) limiter_.consumed(size);
  while (size > 0 && step_ != Step::Done) {
    if (literalLeft_ > 0) {
      std::size_t take = literalLeft_ < size ? static_cast<std::size_t>(literalLeft_) : size;
      literalLeft_ -= take;
      data += take;
      size -= take;
      continue;
    }
    const void* lf = std::memchr(data, '\n', size);
    std::size_t take =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data) + 1 : size;
    line_.append(data, take);
    data += take;
    size -= take;
    if (line_.size() > 64 * 1024) return finish("line too long");
    if (!lf) return;
    // "... {123}\r\n": a literal of 123 bytes follows; the line continues after it.
    if (line_.ends_with("}\r\n")) {
      std::size_t open = line_.rfind('{');
      std::uint64_t n = 0;
      if (open != std::string::npos &&
          std::from_chars(line_.data() + open + 1, line_.data() + line_.size() - 3, n).ec ==
              std::errc{}) {
        literalLeft_ = n;
        literalBytes_ += n;
      }
    }
    onLine(line_);
    line_.clear();
  }
}

void ImapFetch::onLine(std::string_view line) {
  auto tagged = [&](const char* tag) { return line.starts_with(tag); };
  auto failed = [&](const char* what) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    finish(std::string(what) + ": " + text);
  };
  switch (step_) {
    case Step::Greeting:
      if (!line.starts_with("* OK")) return failed("greeting");
      step_ = Step::Login;
      connection_.write("a LOGIN " + quoted(options_.user) + " " + quoted(options_.password) +
                        "\r\n");
      return;
    case Step::Login:
      if (!tagged("a ")) return;
      if (!tagged("a OK")) return failed("LOGIN");
      step_ = Step::Select;
      connection_.write("b SELECT INBOX\r\n");
      return;
    case Step::Select:
      if (!tagged("b ")) return;
      if (!tagged("b OK")) return failed("SELECT");
      step_ = Step::Fetch;
      literalBytes_ = 0;
      fetchStartedAt_ = nowSeconds();
      limiter_.start(&connection_);
      connection_.write("c UID FETCH " + std::to_string(options_.message) + " BODY.PEEK[]\r\n");
      return;
    case Step::Fetch:
      if (!tagged("c ")) return;
      if (!tagged("c OK")) return failed("UID FETCH");
      fetchEndedAt_ = nowSeconds();
      limiter_.stop();
      step_ = Step::Logout;
      connection_.write("d LOGOUT\r\n");
      return;
    case Step::Logout:
      if (tagged("d ")) finish("");
      return;
    case Step::Done:
      return;
  }
}

void ImapFetch::onClosed(const char* why) {
  if (step_ == Step::Done) return;
  finish(step_ == Step::Logout ? "" : std::string("connection closed: ") + why);
}

void ImapFetch::finish(std::string error) {
  if (step_ == Step::Done) return;
  step_ = Step::Done;
  error_ = std::move(error);
  timeout_.stop();
  limiter_.stop();
  connection_.close();
}

}  // namespace loadgen
