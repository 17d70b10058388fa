#pragma once
// One message download (a blob from the session's downloadUrl). Started ahead of the reader
// (JmapReadAhead), it keeps what arrives, never more than the size the snapshot announced,
// until a retrieval takes it over or drops it; once attached, the response goes on to the
// retrieval as it comes, with back-pressure. A download ahead that turns out of no use (a
// transport error, a status other than 200, more bytes than announced) is only marked so: the
// retrieval then downloads the message afresh, so a fault ahead of the reader never reaches it.

#include <cstdint>
#include <memory>
#include <string>

#include "lib/http/HttpClient.h"

namespace popgate::jmap {

class JmapDownload final : private http::HttpResponseHandler {
 public:
  JmapDownload(std::size_t index, std::uint64_t expected) : index_(index), expected_(expected) {}
  JmapDownload(const JmapDownload&) = delete;
  JmapDownload& operator=(const JmapDownload&) = delete;
  ~JmapDownload() override = default;

  void start(http::HttpClient& client, http::HttpRequest request);
  // From now on the response goes to `handler` as it comes. What was kept before is the
  // caller's to hand on first (answered(), takeHeld(), ended()).
  void attach(http::HttpResponseHandler& handler) { attached_ = &handler; }
  void pause();
  void resume();

  std::size_t index() const { return index_; }
  std::uint64_t expected() const { return expected_; }
  // Not attached: of no use to a retrieval (see above).
  bool failed() const { return failed_; }
  // The 200 head came (a download ahead keeps no other answer, and nothing else of the head).
  bool answered() const { return answered_; }
  std::string takeHeld() { return std::exchange(held_, {}); }
  bool ended() const { return ended_; }  // complete (a failed one is failed())

 private:
  void onResponseHead(const http::HttpResponseHead& head) override;
  void onResponseBody(std::string_view bytes) override;
  void onResponseEnd(Status status) override;
  void fail();

  std::size_t index_;
  std::uint64_t expected_;
  std::unique_ptr<http::HttpExchange> exchange_;
  http::HttpResponseHandler* attached_ = nullptr;
  std::string held_;
  bool answered_ = false;
  bool ended_ = false;
  bool failed_ = false;
};

}  // namespace popgate::jmap
