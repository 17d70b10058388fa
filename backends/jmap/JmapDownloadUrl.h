#pragma once
// The session's downloadUrl (RFC 8620 §6.2), an RFC 6570 level-1 template with the variables
// {accountId} {blobId} {type} {name}. For one account only {blobId} differs between messages,
// so DownloadUrl expands and parses the template once per login and a download only encodes
// its blobId into the request target.

#include <string>
#include <string_view>
#include <vector>

#include "backends/jmap/JmapProtocol.h"
#include "lib/common/Result.h"
#include "lib/http/HttpUrl.h"

namespace popgate::jmap {

// The download URL of a message blob, each variable percent-encoded; the type asked for is
// message/rfc822. An unknown variable expands to nothing (RFC 6570 section 3.2.1).
std::string downloadUrl(const JmapSession& session, std::string_view blobId);

class DownloadUrl {
 public:
  explicit DownloadUrl(const JmapSession& session);

  // Always what parseHttpUrl(downloadUrl(session, blobId)) gives, without parsing it again.
  Result<http::HttpUrl> forBlob(std::string_view blobId) const;

 private:
  std::string template_;
  std::string accountId_;
  // Set when every {blobId} lands in the request target: the parsed URL (its target unused)
  // and the target split where the blobId goes. Otherwise each blob's URL is parsed whole.
  bool prepared_ = false;
  http::HttpUrl base_;
  std::vector<std::string> targetPieces_;
};

}  // namespace popgate::jmap
