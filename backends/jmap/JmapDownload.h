#pragma once
// One message download (a blob from the session's downloadUrl).
//
// Started ahead of the reader (JmapReadAhead), it reads the answer's head and then waits: the
// store has done the costly part of a download (the login check and the lookup), and the body
// stays in the socket buffers. Read as it came, the body would arrive in as many pieces as the
// store writes, a wake-up each, for a second store process busy per session
// (docs/performance-stores.md). When its RETR comes, the retrieval lets it finish into memory
// (never more than the size the snapshot announced) and then hands the bytes on. A download
// ahead that turns out of no use (a transport error, a status other than 200, more bytes than
// announced) is only marked so: the retrieval then downloads the message afresh, so a fault
// ahead of the reader never reaches it.
//
// A download that has not answered when its RETR comes is attached instead: the response goes
// on to the retrieval as it comes, with back-pressure, like a download started by the RETR.
//
// Each one counts itself in `inFlight` (the worker's downloads, for JmapReadAhead) while it lives.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lib/http/HttpClient.h"

namespace popgate::jmap {

class JmapDownload final : private http::HttpResponseHandler {
 public:
  JmapDownload(std::size_t index, std::uint64_t expected, std::size_t& inFlight)
      : index_(index), expected_(expected), inFlight_(inFlight) {
    ++inFlight_;
  }
  JmapDownload(const JmapDownload&) = delete;
  JmapDownload& operator=(const JmapDownload&) = delete;
  ~JmapDownload() override { --inFlight_; }

  void start(http::HttpClient& client, http::HttpRequest request);
  // From now on the response goes to `handler` as it comes.
  void attach(http::HttpResponseHandler& handler) { attached_ = &handler; }
  void pause();
  void resume();
  // Reads the rest of an answered download, keeping it; `settled` runs once it ended() or
  // failed(), from inside the download's own callback (so it must not destroy the download).
  void finish(std::function<void()> settled);

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
  void settle();

  std::size_t index_;
  std::uint64_t expected_;
  std::size_t& inFlight_;
  std::unique_ptr<http::HttpExchange> exchange_;
  http::HttpResponseHandler* attached_ = nullptr;
  std::function<void()> settled_;
  std::string held_;
  bool answered_ = false;
  bool ended_ = false;
  bool failed_ = false;
};

}  // namespace popgate::jmap
