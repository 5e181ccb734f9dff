// The live status page served at `/` of the metrics listener: one HTML document and its script
// (`/status.js`), embedded in the binary — no asset from the internet. The script polls
// `/api/status` (StatusBoard::Json) every 1.5 s and renders every value with textContent, never
// as markup: item text is user data. Readable from phone width up to desktop.
// Thread-safety: immutable data.
#pragma once

#include <string_view>

namespace ddb2pg::app {

std::string_view StatusPageHtml();
std::string_view StatusPageScript();

}  // namespace ddb2pg::app
