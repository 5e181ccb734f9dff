// Parsers shared by the credential providers: ISO-8601 times, the JSON credential documents of
// the container endpoint, instance metadata and credential_process, and the one-element lookups
// the STS XML responses need.
//
// Errors name the document ("instance metadata", "credential_process 'cmd'") and the missing or
// bad field, never a value read from a secret field.
// Thread-safety: free functions over plain values.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "core/status.h"

namespace ddb2pg::aws {

// "2026-11-28T21:05:00Z", with optional fractional seconds and a "+HH:MM" offset instead of Z.
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);
// "2026-11-28T21:05:00Z" (UTC, whole seconds).
std::string FormatIso8601(std::chrono::system_clock::time_point time);

// {"AccessKeyId", "SecretAccessKey", "Token" or "SessionToken", "Expiration"} as the container
// endpoint, IMDS and credential_process send them. `what` names the document in errors.
// Expiration is optional unless `require_expiration`.
core::Result<Credentials> ParseCredentialJson(std::string_view body, const std::string& what,
                                              bool require_expiration);

// The text of the first <name>...</name> element in `xml`, entities decoded; nullopt if absent.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name);

// application/x-www-form-urlencoded / query encoding (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view text);

// Lower-case hex SHA-1 of `text` (the SSO token cache's file names).
std::string Sha1Hex(std::string_view text);

}  // namespace ddb2pg::aws
