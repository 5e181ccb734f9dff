// Expression: a mapping or filter expression, parsed once into a tree and evaluated per record.
//
// The language (what users write after `column:` and `filter:` in the config):
//
//   paths      appearance.mode   pronouns[0].pronoun   "first-name"   `first-name`.x
//              A path starts at the record's image (the item). Names are [A-Za-z_][A-Za-z0-9_]*
//              or quoted: double quotes or backticks (as in SQL / MySQL; a doubled quote
//              character inside stands for itself). Quote names that clash with the keywords
//              below (`null`, `true`, `and`, …). `[n]` indexes a list (0-based).
//              In an exploded pipeline (MappingPlan, PipelineSpec::explode) two more roots:
//              `element` (the element, so `element.pronoun`, `element[0]`) and `index` (its
//              position in an L or a set, an N from 0; its name in an M, an S). Unquoted only:
//              "element" and "index" quoted are attributes of the item, as everywhere else.
//              A missing attribute, a NULL, or an index past the end gives null. Stepping into a
//              value of the wrong type (`.mode` on an S, `[0]` on a map) is an error naming the
//              path, except inside exists(), which is then simply false.
//   literals   'text' (single quotes; '' inside for a quote; backslashes are literal)
//              12  -3.5  1e6 (DynamoDB numbers, exact)   true  false  null
//   operators  Precedence, loosest first (operators on one line bind equally, left to right):
//                or
//                and  (also &&)
//                not  (also !)
//                ==  !=  (also = and <>)  <  <=  >  >=      (comparisons do not chain)
//                ||                                           (text concatenation)
//                +  -
//                *  /  %
//                unary -
//              then paths, literals, calls and parentheses. Keywords are case-insensitive.
//              a == b: null equals only null; numbers compare by value (5 == 5.0); strings,
//              booleans, timestamps by value; maps/lists/sets deeply; different types are unequal.
//              and/or/not and if() take booleans; null counts as false; anything else is an error.
//              < <= > >=: two N by value, two S by bytes (UTF-8 code point order), two times
//              (timestamps, or a timestamp and an ISO-8601 S); null on either side gives null;
//              other pairs are an error.
//              + - * / % and unary minus take N only (an S is an error: use to_number()); null
//              on either side gives null. Arithmetic is exact decimal (processor/decimal_number.h):
//              + - * exact, rounded half to even only beyond 38 significant digits; / gives 38
//              significant digits, rounded half to even; % is the remainder of truncating division
//              (sign of the dividend). Division by zero, and a result outside DynamoDB's range
//              (1E-130 to 9.9E+125), is an error naming the operator's position.
//              a || b joins S, N (its text) and times (ISO-8601); null on either side gives null.
//              `||` was a synonym of `or` before; a boolean operand is now an error that says to
//              write `or` (at parse time when the operand is a comparison, logic, a boolean
//              literal, exists(), contains(), regex_match() or ttl_delete(); else when evaluated).
//              `a-b` between two names without spaces is a parse error asking to quote the name
//              ("first-name") or to space the minus.
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
//            From here on every function gives null when an argument is null (unless said
//            otherwise); a wrong argument type is an error naming the function's position.
//            Numbers are N; "text" is an S (or an N, read as its text). Lengths and positions
//            count characters (UTF-8 code points).
//              concat(a, b, …)            the arguments as text (to_text()), nulls skipped; never null
//              substr(s, start [, len])   characters start … start+len-1, 1-based, as PostgreSQL:
//                                         substr('abc', 0, 2) = 'a'; a negative len is an error
//              length(x)                  characters of an S; elements of L, M, SS, NS, BS; bytes of B
//              replace(s, from, to)       every occurrence of from replaced (from '' changes nothing)
//              regex_match(s, pattern)    the pattern matches somewhere in s (RE2 syntax, anchor
//                                         with ^ and $)
//              regex_extract(s, pattern [, group])
//                                         the first match (group 0, default) or its capture group;
//                                         null when nothing matches
//              regex_replace(s, pattern, replacement)
//                                         every match replaced; \1 … \9 in the replacement insert
//                                         groups. Patterns are literal strings compiled once when
//                                         the expression is parsed (a bad pattern is a parse
//                                         error); RE2 runs in linear time (no backtracking)
//              split(s, sep)              an L of S; sep must not be empty
//              join(list, sep)            the elements of an L (S, N, BOOL, times; NULL elements
//                                         skipped; M/L elements are an error naming the index) or a
//                                         set, joined by sep
//              round(n [, digits])        half away from zero, to digits fraction digits (default
//                                         0; negative rounds left of the point)
//              abs(n) floor(n) ceil(n)
//              to_text(x)                 S as is, N its text, BOOL true/false, a time ISO-8601,
//                                         B base64, M/L/sets as JSON
//              to_number(s)               an S spelling a DynamoDB number as N (else an error)
//              parse_time(s, format)      a timestamp read by a strftime-style format: %Y %m %d %H
//                                         %M %S %f (1-9 fraction digits, cut to microseconds) %z
//                                         (Z or ±HH:MM) %b (Jan…) %s (epoch seconds) %%; no %z
//                                         means UTC. A mismatch is an error naming the character.
//              format_time(t, format)     t (a timestamp, ISO-8601 S or epoch N) written in UTC by
//                                         %Y %m %d %H %M %S %f (6 digits) %j %b %z (+00:00) %Z
//                                         (UTC) %s %%
//              epoch_ms(t)                t as N milliseconds since the epoch (rounded down)
//              sha256(x) md5(x)           lower-case hex digest of an S, N (its text) or B (bytes)
//              json(x)                    x as JSON text (M object, L array, S quoted, …)
//              item()                     the whole image as an M (JSONB columns write it as an
//                                         object); null when the record has no image
//              item_except('a', …)        the image without the named top-level attributes
//              keys(m) values(m)          an L of the names / values of an M, in the item's order
//            item() and item_except() read every attribute, so a source that maps with them
//            decodes whole items.
//
// Parse errors say where: "position 12: expected ')' to close coalesce(, found end of expression"
// (1-based character position in the expression). Nesting is bounded: more than 256 levels of
// parentheses, calls, `not`, unary minus and operands chained by a binary operator is a parse
// error, so that no text can overflow the stack.
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

// Everything an evaluation reads. `strings` holds text made by functions and operators (lower(),
// concat(), ||, arithmetic) and `values` the lists and maps they make (split(), keys(),
// item_except()); both must be set when the expression may make them, and outlive the Datum.
struct EvalContext {
  const core::Value* image = nullptr;    // the item paths start from (a map, or null)
  const core::Record* record = nullptr;  // for operation(), change_time(), key(); may be null
  const core::Clock* clock = nullptr;    // for now(); null means the system clock
  std::deque<std::string>* strings = nullptr;
  // Values made by functions (split(), keys(), values(), item_except()); like `strings`.
  std::deque<core::Value>* values = nullptr;
  // An exploded pipeline's element and its index (PathRoot::kElement / kIndex); null elsewhere,
  // where those roots give null.
  const core::Value* element = nullptr;
  const core::Value* index = nullptr;
};

class Expression {
 public:
  struct Node;

  // Parses `source`; errors are InvalidArgument "position N: …". With `element_roots` (an
  // exploded pipeline's columns) the unquoted words `element` and `index` start paths at the
  // element and its index instead of the item.
  static core::Result<Expression> Parse(std::string_view source, bool element_roots = false);

  // Evaluates against `context`; errors are InvalidArgument naming the path or function.
  core::Result<Datum> Evaluate(const EvalContext& context) const;
  // The same without building a Result: false with `error` set on failure.
  bool Evaluate(const EvalContext& context, Datum* out, core::Status* error) const;

  const std::string& source() const { return source_; }
  // True for a bare literal `null` (a column mapped to nothing).
  bool IsNullLiteral() const;
  // False only when no record can make it null: a non-null literal, ==/!=, and/or/not,
  // exists(), contains(), now(), change_time(), operation(), ttl_delete(), key(), concat(),
  // coalesce() with an argument that cannot be null, if() with two such branches, an operator
  // whose operands cannot be null. Paths and the other functions can always be null.
  bool CanBeNull() const;
  // True when it calls operation() or ttl_delete(): its value tells what kind of change the
  // record is, so a soft delete must write it too (not keep the row's old value).
  bool ReadsChangeKind() const;
  // True when some path starts at `element` or `index` (parsed with element roots).
  bool ReadsElement() const;
  // Adds the top-level attribute names its paths start with (`appearance.mode` → appearance) to
  // *names. False if it reads the image in a way that names no attribute (then every attribute
  // may matter). key() reads the record's key, not the image; `element` and `index` read none.
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
