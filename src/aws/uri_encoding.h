// URI encoding as SigV4 writes it: RFC 3986 percent-encoding of everything but the unreserved set
// (A–Z a–z 0–9 - . _ ~), upper-case hex; a '%' is encoded too (which gives non-S3 paths their
// double encoding). Used by the signer, by presigned URLs (RdsAuthToken) and by app when it adds
// settings to a postgresql:// URI.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddb2pg::aws {

// Appends `text` encoded to `out`; '/' stays as it is when `keep_slash`.
void UriEncodeInto(std::string_view text, bool keep_slash, std::string& out);
std::string UriEncode(std::string_view text, bool keep_slash = false);

// key=value pairs (already encoded) sorted by key, then value, joined by '&': a canonical query.
std::string JoinSortedQuery(std::vector<std::pair<std::string, std::string>> params);

}  // namespace ddb2pg::aws
