// The parsed form of an Expression, shared by the parser (expression_parser.cpp) and the
// evaluator (expression.cpp). Internal to processor/.
//
// A node is built in place on the heap and never moved afterwards, so a literal's Datum can view
// the node's own string.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "processor/expression.h"

namespace ddb2pg::processor {

// Where an attribute was found last time. Items from one writer keep their attributes in the
// same order, so checking this slot first turns the linear map lookup into one comparison.
// Relaxed: a stale hint costs a scan, never a wrong answer.
struct LookupHint {
  mutable std::atomic<uint32_t> index{0};
  LookupHint() = default;
  LookupHint(const LookupHint& other) : index(other.index.load(std::memory_order_relaxed)) {}
  LookupHint& operator=(const LookupHint& other) {
    index.store(other.index.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
};

struct PathStep {
  std::string name;  // attribute name, when !is_index
  bool is_index = false;
  int64_t index = 0;  // list index, when is_index
  LookupHint hint;
};

enum class NodeKind : uint8_t {
  kLiteral,
  kPath,
  kAnd,
  kOr,
  kNot,
  kEquals,
  kNotEquals,
  kCall,
};

enum class Function : uint8_t {
  kCoalesce,
  kContains,
  kIf,
  kExists,
  kLower,
  kUpper,
  kTrim,
  kNow,
  kChangeTime,
  kOperation,
  kKey,
};

struct Expression::Node {
  NodeKind kind = NodeKind::kLiteral;
  Function function = Function::kCoalesce;
  int position = 1;  // 1-based, where the node starts in the source

  Datum literal;             // kLiteral; text views literal_text
  std::string literal_text;

  std::vector<PathStep> path;  // kPath
  std::string path_text;       // the path as written, for error messages

  std::vector<std::unique_ptr<Node>> args;  // operands and call arguments
  std::string key_name;                     // kKey: the key attribute's name
};

}  // namespace ddb2pg::processor
