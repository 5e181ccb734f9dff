// Expression: a mapping or filter expression, parsed once into a tree and evaluated per record.
//
// The language (what users write after `column:` and `filter:` in the config):
//
//   paths      appearance.mode   pronouns[0].pronoun   "first-name"   `first-name`.x
//              A path starts at the record's image (the item). Names are [A-Za-z_][A-Za-z0-9_]*
//              or quoted: double quotes or backticks (as in SQL / MySQL; a doubled quote
//              character inside stands for itself). Quote names that clash with the keywords
//              below (`null`, `true`, `and`, …). `[n]` indexes a list (0-based).
//              A missing attribute, a NULL, or an index past the end gives null. Stepping into a
//              value of the wrong type (`.mode` on an S, `[0]` on a map) is an error naming the
//              path, except inside exists(), which is then simply false.
//   literals   'text' (single quotes; '' inside for a quote; backslashes are literal)
//              12  -3.5  1e6 (DynamoDB numbers, exact)   true  false  null
//   operators  ==  !=  (also = and <>), and, or, not (also &&, ||, !), parentheses.
//              Precedence, loosest first: or, and, not, comparison. Keywords are
//              case-insensitive.
//              a == b: null equals only null; numbers compare by value (5 == 5.0); strings,
//              booleans, timestamps by value; maps/lists/sets deeply; different types are unequal.
//              and/or/not and if() take booleans; null counts as false; anything else is an error.
//   functions  (names case-insensitive)
//              coalesce(a, b, …)          first argument that is not null
//              contains(c, v [, ignore_case])
//                                         c a list: some element == v; a string/number set: a
//                                         member == v; a string: v is a substring; a map: v names
//                                         an attribute. ignore_case (default false) folds ASCII
//                                         letters. A null/missing c gives false.
//              if(cond, a, b)             a when cond is true, else b (only one side is evaluated)
//              exists(path)               the attribute is present (a DynamoDB NULL counts as present)
//              lower(s) upper(s) trim(s)  ASCII case mapping; trim removes blanks at both ends.
//                                         null stays null; N is treated as its text.
//              now()                      the current time (the plan's clock)
//              change_time()              the change's time (stream ApproximateCreationDateTime,
//                                         or the scan time for a snapshot)
//              operation()                'snapshot', 'create', 'update' or 'delete'
//              ttl_delete()               true for a delete made by DynamoDB's Time to Live
//                                         (stream userIdentity type Service, principal
//                                         dynamodb.amazonaws.com), false for anything else;
//                                         never null
//              key(name)                  a key attribute of the record (name: 'id' or id); falls
//                                         back to the image when the record carries no key map
//
// Parse errors say where: "position 12: expected ')' to close coalesce(, found end of expression"
// (1-based character position in the expression). Nesting is bounded: more than 256 levels of
// parentheses, calls, `not` and operands chained by and/or is a parse error, so that no text can
// overflow the stack.
//
// Thread-safety: a parsed Expression is immutable apart from lookup hints (relaxed atomics that
// only affect speed); Evaluate() is safe from many threads.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/record.h"
#include "core/status.h"
#include "core/value.h"

namespace ddb2pg::processor {

// The result of evaluating an expression: a view, valid while the record, the expression and
// the EvalContext's scratch live.
struct Datum {
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kString,     // text
    kNumber,     // text: a DynamoDB number's decimal text
    kTimestamp,  // micros since the epoch (now(), change_time())
    kValue,      // value: M, L, SS, NS, BS or B
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t micros = 0;
  std::string_view text;
  const core::Value* value = nullptr;  // the item's value this came from, when it came from one

  static Datum Null() { return {}; }
  static Datum Bool(bool b) {
    Datum d;
    d.kind = Kind::kBool;
    d.boolean = b;
    return d;
  }
  static Datum String(std::string_view s) {
    Datum d;
    d.kind = Kind::kString;
    d.text = s;
    return d;
  }
  static Datum Number(std::string_view s) {
    Datum d;
    d.kind = Kind::kNumber;
    d.text = s;
    return d;
  }
  static Datum Timestamp(int64_t micros) {
    Datum d;
    d.kind = Kind::kTimestamp;
    d.micros = micros;
    return d;
  }
  static Datum FromValue(const core::Value& value);

  bool is_null() const { return kind == Kind::kNull; }
  // "NULL", "BOOL", "S", "N", "timestamp", or the DynamoDB type of `value`.
  std::string_view TypeName() const;
  // A short form for error messages: the text quoted and cut at 64 characters, or the type.
  std::string Describe() const;
};

// Everything an evaluation reads. `strings` holds text made by functions (lower(), upper());
// it must be set when the expression may call them, and outlive the Datum.
struct EvalContext {
  const core::Value* image = nullptr;    // the item paths start from (a map, or null)
  const core::Record* record = nullptr;  // for operation(), change_time(), key(); may be null
  const core::Clock* clock = nullptr;    // for now(); null means the system clock
  std::deque<std::string>* strings = nullptr;
};

class Expression {
 public:
  struct Node;

  // Parses `source`; errors are InvalidArgument "position N: …".
  static core::Result<Expression> Parse(std::string_view source);

  // Evaluates against `context`; errors are InvalidArgument naming the path or function.
  core::Result<Datum> Evaluate(const EvalContext& context) const;
  // The same without building a Result: false with `error` set on failure.
  bool Evaluate(const EvalContext& context, Datum* out, core::Status* error) const;

  const std::string& source() const { return source_; }
  // True for a bare literal `null` (a column mapped to nothing).
  bool IsNullLiteral() const;
  // False only when no record can make it null: a non-null literal, a comparison, and/or/not,
  // exists(), contains(), now(), change_time(), operation(), ttl_delete(), key(), coalesce() with
  // an argument that cannot be null, if() with two such branches. Paths can always be null.
  bool CanBeNull() const;
  // True when it calls operation() or ttl_delete(): its value tells what kind of change the
  // record is, so a soft delete must write it too (not keep the row's old value).
  bool ReadsChangeKind() const;
  // Adds the top-level attribute names its paths start with (`appearance.mode` → appearance) to
  // *names. False if it reads the image in a way that names no attribute (then every attribute
  // may matter). key() reads the record's key, not the image.
  bool CollectTopLevelAttributes(std::set<std::string>* names) const;
  // The parsed tree (processor-internal; see expression_node.h). MappingPlan uses it to share
  // the first path step between columns.
  const Node& root() const { return *root_; }

  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

 private:
  Expression(std::string source, std::unique_ptr<Node> root);
  std::string source_;
  std::unique_ptr<Node> root_;
};

// Equality as the == operator defines it; `ignore_case` folds ASCII letters of strings.
bool DatumEquals(const Datum& a, const Datum& b, bool ignore_case);

}  // namespace ddb2pg::processor
