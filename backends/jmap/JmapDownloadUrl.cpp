#include "backends/jmap/JmapDownloadUrl.h"

namespace popgate::jmap {

namespace {

// Stands for the blobId while the template is parsed once. Encoding (below) writes '%' only
// before two upper-case hex digits, so no encoded value contains it; a template that does is
// never prepared.
constexpr std::string_view kBlobMark = "%zz";

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// RFC 6570 simple string expansion: everything but unreserved characters (ASCII letters, digits,
// "-._~") percent-encoded, appended to `out`. Runs of unreserved characters go in whole.
void appendEncoded(std::string& out, std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t run = i;
    while (run < value.size() && unreserved(static_cast<unsigned char>(value[run]))) ++run;
    out.append(value, i, run - i);
    if (run == value.size()) break;
    auto c = static_cast<unsigned char>(value[run]);
    char escaped[3] = {'%', hex[c >> 4], hex[c & 15]};
    out.append(escaped, 3);
    i = run + 1;
  }
}

// The template expanded; `blob` goes in encoded unless `blobRaw` (the mark, as it is).
std::string expand(std::string_view tpl, std::string_view accountId, std::string_view blob,
                   bool blobRaw) {
  std::string out;
  out.reserve(tpl.size() + 3 * (accountId.size() + blob.size()) + 32);
  for (std::size_t i = 0; i < tpl.size();) {
    std::size_t open = tpl.find('{', i);
    std::size_t close = open == std::string_view::npos ? open : tpl.find('}', open);
    if (close == std::string_view::npos) {  // no (further) variable: the rest is literal
      out.append(tpl.substr(i));
      break;
    }
    out.append(tpl.substr(i, open - i));
    std::string_view name = tpl.substr(open + 1, close - open - 1);
    if (name == "accountId")
      appendEncoded(out, accountId);
    else if (name == "blobId" && blobRaw)
      out.append(blob);
    else if (name == "blobId")
      appendEncoded(out, blob);
    else if (name == "type")
      appendEncoded(out, "message/rfc822");
    else if (name == "name")
      appendEncoded(out, "message.eml");
    i = close + 1;  // an unknown variable expands to nothing
  }
  return out;
}

std::size_t countOf(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

}  // namespace

std::string downloadUrl(const JmapSession& session, std::string_view blobId) {
  return expand(session.downloadUrl, session.accountId, blobId, false);
}

DownloadUrl::DownloadUrl(const JmapSession& session)
    : template_(session.downloadUrl), accountId_(session.accountId) {
  if (template_.find(kBlobMark) != std::string::npos) return;
  std::string marked = expand(template_, accountId_, kBlobMark, true);
  auto parsed = http::parseHttpUrl(marked);
  // Every mark must be in the target: one in the host, or cut off with a fragment, would make
  // the parse depend on the blobId.
  if (!parsed || countOf(parsed.value().target, kBlobMark) != countOf(marked, kBlobMark)) return;
  base_ = std::move(parsed.value());
  std::string_view target = base_.target;
  for (std::size_t at = target.find(kBlobMark); at != std::string_view::npos;
       at = target.find(kBlobMark)) {
    targetPieces_.emplace_back(target.substr(0, at));
    target.remove_prefix(at + kBlobMark.size());
  }
  targetPieces_.emplace_back(target);
  prepared_ = true;
}

Result<http::HttpUrl> DownloadUrl::forBlob(std::string_view blobId) const {
  if (!prepared_) return http::parseHttpUrl(expand(template_, accountId_, blobId, false));
  http::HttpUrl url;
  url.https = base_.https;
  url.host = base_.host;
  url.port = base_.port;
  url.target.clear();
  url.target.reserve(base_.target.size() + 3 * blobId.size());
  for (std::size_t i = 0; i < targetPieces_.size(); ++i) {
    if (i > 0) appendEncoded(url.target, blobId);
    url.target += targetPieces_[i];
  }
  return url;
}

}  // namespace popgate::jmap
