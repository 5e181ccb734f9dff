// The parsed form of an Expression, shared by the parser (expression_parser.cpp) and the
// evaluator (expression.cpp). Internal to processor/.
//
// A node is built in place on the heap and never moved afterwards, so a literal's Datum can view
// the node's own string.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "processor/expression.h"

namespace re2 {
class RE2;
}

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
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kConcat,     // ||
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kRemainder,  // %
  kNegate,     // unary minus
  kCall,
};

// The operators whose value is null when an operand is: comparisons, ||, arithmetic and unary
// minus (kLess through kNegate above: keep them together when adding kinds).
constexpr bool IsStrictOperator(NodeKind kind) { return kind >= NodeKind::kLess && kind <= NodeKind::kNegate; }

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
  kTtlDelete,
  kKey,
  // The functions below evaluate all their arguments first (expression_functions.cpp).
  kConcat,
  kSubstr,
  kLength,
  kReplace,
  kRegexMatch,
  kRegexExtract,
  kRegexReplace,
  kSplit,
  kJoin,
  kRound,
  kAbs,
  kFloor,
  kCeil,
  kToText,
  kToNumber,
  kParseTime,
  kFormatTime,
  kEpochMs,
  kSha256,
  kMd5,
  kJson,
  kItem,
  kItemExcept,
  kKeys,
  kValues,
};

// Where a path starts. `element` and `index` exist only in an exploded pipeline's expressions
// (Expression::Parse with element roots); everywhere else every path starts at the image.
enum class PathRoot : uint8_t {
  kImage,    // the record's image (the item)
  kElement,  // the element being exploded; path[0] is the word `element` itself
  kIndex,    // its index (L, SS, NS: N from 0) or its name (M: S); the path is that word alone
};

struct Expression::Node {
  NodeKind kind = NodeKind::kLiteral;
  PathRoot root = PathRoot::kImage;  // kPath
  Function function = Function::kCoalesce;
  std::string_view function_name;  // kCall: as documented (lower case), for error messages
  int position = 1;  // 1-based, where the node starts in the source

  Datum literal;             // kLiteral; text views literal_text
  std::string literal_text;

  std::vector<PathStep> path;  // kPath
  std::string path_text;       // the path as written, for error messages

  std::vector<std::unique_ptr<Node>> args;  // operands and call arguments
  std::string key_name;                     // kKey: the key attribute's name
  std::vector<std::string> names;           // kItemExcept: the attributes left out
  // regex_*: the literal pattern, compiled once. A shared_ptr so that this header needs no RE2
  // definition (the deleter is bound where the pattern is compiled).
  std::shared_ptr<const re2::RE2> regex;
};

// Evaluates a call of a function from kConcat on (all arguments evaluated into `args`, in
// order) or an operator from kLess to kNegate (`args` the operands). Text and values it makes
// live in the context's scratch. Defined in expression_functions.cpp.
bool ApplyStrict(const Expression::Node& node, const Datum* args, size_t count, const EvalContext& context,
                 Datum* out, core::Status* error);

// The error "<what> (at position N)".
bool PositionError(const Expression::Node& node, std::string what, core::Status* error);

// Attribute names are short; comparing them inline beats a memcmp call on the hot path.
inline bool SameName(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a1, b1, a2, b2;
    std::memcpy(&a1, a.data(), 8);
    std::memcpy(&b1, b.data(), 8);
    std::memcpy(&a2, a.data() + n - 8, 8);
    std::memcpy(&b2, b.data() + n - 8, 8);
    return a1 == b1 && a2 == b2;
  }
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

// The scan FindHinted falls back to when the hinted slot holds another name; updates the hint.
const core::Value* FindScanning(const core::Value::Map& entries, const std::string& name, const LookupHint& hint);

// Map lookup that tries the hinted slot first. Only that check is inline: it is what nearly every
// lookup needs, and small enough that the compiler inlines it into MappingPlan::Map() whatever
// else that function holds.
inline const core::Value* FindHinted(const core::Value::Map& entries, const std::string& name,
                                     const LookupHint& hint) {
  const uint32_t guess = hint.index.load(std::memory_order_relaxed);
  if (guess < entries.size() && SameName(entries[guess].first, name)) return &entries[guess].second;
  return FindScanning(entries, name, hint);
}

// Builds the "path a.b: a is S "x", not a map" error; always returns false.
bool StepError(const Expression::Node& node, size_t step, const core::Value& value,
               const char* expected, core::Status* error);

// Follows node.path from step `first_step` on, `current` being the value that step applies to
// (the image for step 0). *found stays null for a missing attribute, a NULL on the way, or an
// index past the end; a step into the wrong type is an error (returns false).
inline bool ResolvePathFrom(const Expression::Node& node, size_t first_step, const core::Value* current,
                            const core::Value** found, core::Status* error) {
  if (current == nullptr) return true;
  const auto& path = node.path;
  for (size_t i = first_step; i < path.size(); ++i) {
    const PathStep& step = path[i];
    const core::ValueType type = current->type();
    if (type == core::ValueType::kNull) return true;
    if (!step.is_index) {
      if (type != core::ValueType::kMap) return StepError(node, i, *current, "a map", error);
      current = FindHinted(current->map(), step.name, step.hint);
    } else {
      if (type != core::ValueType::kList) return StepError(node, i, *current, "a list", error);
      const auto& items = current->list();
      current = static_cast<size_t>(step.index) < items.size() ? &items[static_cast<size_t>(step.index)]
                                                               : nullptr;
    }
    if (current == nullptr) return true;
  }
  *found = current;
  return true;
}

}  // namespace ddb2pg::processor
