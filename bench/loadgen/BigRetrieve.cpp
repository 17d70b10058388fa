#include "BigRetrieve.h"

namespace loadgen {

namespace {
Pop3Session::Settings bigSettings(const Options& options, sockaddr_in address) {
  Pop3Session::Settings settings;
  settings.script = Script::Big;
  settings.address = address;
  settings.timeoutS = options.sessionTimeoutS;
  settings.readRate = options.readRate;
  settings.message = options.message;
  return settings;
}
}  // namespace

BigRetrieve::BigRetrieve(uv_loop_t* loop, const Options& options, sockaddr_in address)
    : loop_(loop), options_(options), session_(loop, *this, bigSettings(options, address)) {}

void BigRetrieve::onFinished(Pop3Session&, const SessionResult& result) {
  result_ = result;
}

std::string BigRetrieve::run() {
  double started = nowSeconds();
  session_.start(options_.user, options_.password);
  uv_run(loop_, UV_RUN_DEFAULT);
  double retr = result_.retrEndedAt - result_.retrStartedAt;
  bool done = result_.ok && result_.messages == 1;
  JsonWriter json;
  json.beginObject()
      .field("scenario", "big")
      .field("label", options_.label)
      .field("port", options_.port)
      .field("ok", done)
      .field("error", result_.error.empty() ? "" : result_.error + ": " + result_.errorDetail)
      .field("read_rate", options_.readRate)
      .field("message_bytes", result_.messageOctets)
      .field("wire_bytes", result_.wireBytes)
      .field("retr_s", done ? retr : 0.0)
      .field("session_s", result_.endedAt - result_.startedAt)
      .field("mb_per_s",
             done && retr > 0 ? static_cast<double>(result_.messageOctets) / retr / 1e6 : 0.0);
  cpu_.write(json, "loadgen_cpu", nowSeconds() - started);
  json.endObject();
  return json.text();
}

}  // namespace loadgen
