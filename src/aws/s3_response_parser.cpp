#include "aws/s3_response_parser.h"

#include <charconv>
#include <cstdint>

namespace ddb2pg::aws {
namespace {

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// An unknown or malformed reference is kept as written: S3 never sends one, and dropping text
// would hide a key.
std::string DecodeXmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    const size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    const std::string_view name = text.substr(i + 1, semicolon - i - 1);
    if (name == "amp") out.push_back('&');
    else if (name == "lt") out.push_back('<');
    else if (name == "gt") out.push_back('>');
    else if (name == "quot") out.push_back('"');
    else if (name == "apos") out.push_back('\'');
    else if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t code_point = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
      if (error != std::errc() || end != digits.data() + digits.size() || code_point > 0x10FFFF) {
        out.append(text.substr(i, semicolon - i + 1));
      } else {
        AppendUtf8(code_point, out);
      }
    } else {
      out.append(text.substr(i, semicolon - i + 1));
    }
    i = semicolon;
  }
  return out;
}

std::string FirstText(std::string_view xml, std::string_view tag) {
  std::vector<std::string> texts = XmlElementTexts(xml, tag);
  return texts.empty() ? std::string() : std::move(texts.front());
}

}  // namespace

std::vector<std::string> XmlElementTexts(std::string_view xml, std::string_view tag) {
  std::vector<std::string> texts;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    const size_t start = at + open.size();
    const size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    texts.push_back(DecodeXmlText(xml.substr(start, end - start)));
    at = end + close.size();
  }
  return texts;
}

S3ErrorBody ParseS3ErrorBody(std::string_view body) {
  S3ErrorBody error;
  const size_t root = body.find("<Error>");
  if (root == std::string_view::npos) return error;
  const std::string_view inner = body.substr(root);
  error.code = FirstText(inner, "Code");
  error.message = FirstText(inner, "Message");
  return error;
}

core::StatusCode ClassifyS3Error(long http_status, std::string_view code) {
  using core::StatusCode;
  if (code == "SlowDown" || code == "RequestLimitExceeded" || http_status == 503 || http_status == 429) {
    return StatusCode::kThrottled;
  }
  if (code == "InternalError" || http_status >= 500) return StatusCode::kUnavailable;
  if (code == "NoSuchKey" || code == "NoSuchBucket" || http_status == 404) return StatusCode::kNotFound;
  if (code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
      code == "ExpiredToken" || code == "InvalidToken" || http_status == 401 || http_status == 403) {
    return StatusCode::kPermissionDenied;
  }
  return StatusCode::kInvalidArgument;
}

core::Status S3ResponseCheck(AwsOperation operation, std::string_view resource, const HttpResponse& response,
                             std::span<const std::string> secrets, std::string* error_type) {
  if (response.status >= 200 && response.status < 300) return core::Status::Ok();
  const S3ErrorBody error = ParseS3ErrorBody(response.body);
  if (error_type != nullptr) *error_type = error.code;
  std::string message = CallContext(operation, resource);
  message += ": ";
  message += error.code.empty() ? "HTTP " + std::to_string(response.status) : error.code;
  if (!error.message.empty()) {
    // S3 puts the string to sign and the canonical request in SignatureDoesNotMatch documents,
    // as separate elements: only <Message> is quoted, and only its first line.
    message += ": ";
    message += error.message.substr(0, error.message.find('\n'));
  }
  return {ClassifyS3Error(response.status, error.code), RedactSecrets(std::move(message), secrets)};
}

core::Result<S3ListPage> ParseListObjectsV2(std::string_view body) {
  if (body.find("<ListBucketResult") == std::string_view::npos) {
    return core::Status::InvalidArgument("ListObjectsV2: the answer is not a ListBucketResult");
  }
  S3ListPage page;
  size_t at = 0;
  while ((at = body.find("<Contents>", at)) != std::string_view::npos) {
    const size_t end = body.find("</Contents>", at);
    if (end == std::string_view::npos) {
      return core::Status::InvalidArgument("ListObjectsV2: an unterminated <Contents> element");
    }
    const std::string_view contents = body.substr(at, end - at);
    S3ObjectInfo object;
    object.key = FirstText(contents, "Key");
    std::string etag = FirstText(contents, "ETag");
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    object.etag = std::move(etag);
    object.last_modified = FirstText(contents, "LastModified");
    const std::string size = FirstText(contents, "Size");
    const auto [ptr, error] = std::from_chars(size.data(), size.data() + size.size(), object.size);
    if (error != std::errc() || ptr != size.data() + size.size()) {
      return core::Status::InvalidArgument("ListObjectsV2: object '" + object.key + "' has no valid <Size>");
    }
    page.objects.push_back(std::move(object));
    at = end;
  }
  page.is_truncated = FirstText(body, "IsTruncated") == "true";
  page.next_continuation_token = FirstText(body, "NextContinuationToken");
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return core::Status::InvalidArgument("ListObjectsV2: a truncated listing without a NextContinuationToken");
  }
  return page;
}

}  // namespace ddb2pg::aws
