#pragma once
namespace ddb2pg::app {
inline constexpr const char* kVersion = "0.1.0";
}
