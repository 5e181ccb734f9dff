// Base64 (RFC 4648, standard alphabet, padded): DynamoDB's wire form of B and BS values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ddb2pg::core {

std::string Base64Encode(std::string_view bytes);
// nullopt when `text` is not valid padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ddb2pg::core
