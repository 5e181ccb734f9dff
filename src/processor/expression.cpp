// Evaluation of a parsed expression tree. This is the hot path: a column is usually a bare path,
// so path resolution avoids all allocation and uses the per-step lookup hints; errors build
// their messages only when they happen.
#include "processor/expression.h"

#include <algorithm>

#include <cstring>
#include <vector>
#include <utility>

#include "processor/decimal_text.h"
#include "processor/expression_node.h"
#include "processor/timestamp_text.h"

namespace ddb2pg::processor {

namespace {

// A path from its root: the image, or an exploded pipeline's element or index. Inlined with the
// image first, so that the common path costs one more compare.
[[gnu::always_inline]] inline bool ResolveRooted(const Expression::Node& node, const EvalContext& context,
                                                 const core::Value** found, core::Status* error) {
  if (node.root == PathRoot::kImage) [[likely]] return ResolvePathFrom(node, 0, context.image, found, error);
  if (node.root == PathRoot::kElement) return ResolvePathFrom(node, 1, context.element, found, error);
  *found = context.index;
  return true;
}

char FoldAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(a[i]) != FoldAscii(b[i])) return false;
  }
  return true;
}

bool ContainsText(std::string_view haystack, std::string_view needle, bool ignore_case) {
  if (!ignore_case) return haystack.find(needle) != std::string_view::npos;
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsFolded(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// Cuts `text` to at most `limit` bytes on a UTF-8 character boundary, marking the cut.
std::string Shorten(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += "…";
  return out;
}

std::string PathPrefix(const std::vector<PathStep>& path, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (path[i].is_index) {
      out += '[';
      out += std::to_string(path[i].index);
      out += ']';
    } else {
      if (i > 0) out += '.';
      out += path[i].name;
    }
  }
  return out;
}

class Evaluator {
 public:
  explicit Evaluator(const EvalContext& context) : context_(context) {}

  bool Eval(const Expression::Node& node, Datum* out, core::Status* error) const {
    switch (node.kind) {
      case NodeKind::kLiteral:
        *out = node.literal;
        return true;
      case NodeKind::kPath: {
        const core::Value* found = nullptr;
        if (!Resolve(node, &found, error)) return false;
        *out = found == nullptr ? Datum::Null() : Datum::FromValue(*found);
        return true;
      }
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        const bool is_and = node.kind == NodeKind::kAnd;
        bool left = false;
        if (!Truth(*node.args[0], is_and ? "and" : "or", &left, error)) return false;
        if (left != is_and) {  // false and … / true or …: short-circuit
          *out = Datum::Bool(left);
          return true;
        }
        bool right = false;
        if (!Truth(*node.args[1], is_and ? "and" : "or", &right, error)) return false;
        *out = Datum::Bool(right);
        return true;
      }
      case NodeKind::kNot: {
        bool operand = false;
        if (!Truth(*node.args[0], "not", &operand, error)) return false;
        *out = Datum::Bool(!operand);
        return true;
      }
      case NodeKind::kEquals:
      case NodeKind::kNotEquals: {
        Datum left, right;
        if (!Eval(*node.args[0], &left, error) || !Eval(*node.args[1], &right, error)) return false;
        const bool equal = DatumEquals(left, right, false);
        *out = Datum::Bool(node.kind == NodeKind::kEquals ? equal : !equal);
        return true;
      }
      case NodeKind::kLess:
      case NodeKind::kLessEqual:
      case NodeKind::kGreater:
      case NodeKind::kGreaterEqual:
      case NodeKind::kConcat:
      case NodeKind::kAdd:
      case NodeKind::kSubtract:
      case NodeKind::kMultiply:
      case NodeKind::kDivide:
      case NodeKind::kRemainder:
      case NodeKind::kNegate: {
        Datum operands[2];
        for (size_t i = 0; i < node.args.size(); ++i) {
          if (!Eval(*node.args[i], &operands[i], error)) return false;
        }
        return ApplyStrict(node, operands, node.args.size(), context_, out, error);
      }
      case NodeKind::kCall:
        return Call(node, out, error);
    }
    *error = core::Status::Internal("unknown expression node");
    return false;
  }

 private:
  bool Resolve(const Expression::Node& node, const core::Value** found, core::Status* error) const {
    return ResolveRooted(node, context_, found, error);
  }

  bool Truth(const Expression::Node& node, const char* where, bool* out, core::Status* error) const {
    Datum datum;
    if (!Eval(node, &datum, error)) return false;
    if (datum.kind == Datum::Kind::kBool) {
      *out = datum.boolean;
      return true;
    }
    if (datum.kind == Datum::Kind::kNull) {
      *out = false;
      return true;
    }
    std::string message = where;
    message += " expects a boolean, got ";
    message += datum.Describe();
    message += " (at position ";
    message += std::to_string(node.position);
    message += ')';
    *error = core::Status::InvalidArgument(std::move(message));
    return false;
  }

  // Text made by a function lives in the caller's scratch, so the Datum can view it.
  std::string_view Keep(std::string text) const {
    context_.strings->push_back(std::move(text));
    return context_.strings->back();
  }

  bool Call(const Expression::Node& node, Datum* out, core::Status* error) const {
    const auto& args = node.args;
    switch (node.function) {
      case Function::kCoalesce:
        for (const auto& arg : args) {
          if (!Eval(*arg, out, error)) return false;
          if (!out->is_null()) return true;
        }
        *out = Datum::Null();
        return true;
      case Function::kIf: {
        bool condition = false;
        if (!Truth(*args[0], "if", &condition, error)) return false;
        return Eval(*args[condition ? 1 : 2], out, error);
      }
      case Function::kExists: {
        const core::Value* found = nullptr;
        core::Status ignored;
        const bool ok = Resolve(*args[0], &found, &ignored);
        *out = Datum::Bool(ok && found != nullptr);
        return true;
      }
      case Function::kContains:
        return Contains(node, out, error);
      case Function::kLower:
      case Function::kUpper:
      case Function::kTrim:
        return TextFunction(node, out, error);
      case Function::kNow: {
        const core::Clock& clock =
            context_.clock != nullptr ? *context_.clock : core::SystemClock::Instance();
        const auto since_epoch = clock.Now().time_since_epoch();
        *out = Datum::Timestamp(
            std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
        return true;
      }
      case Function::kChangeTime:
        *out = context_.record == nullptr
                   ? Datum::Null()
                   : Datum::Timestamp(context_.record->metadata.change_time_ms * 1000);
        return true;
      case Function::kOperation:
        *out = context_.record == nullptr
                   ? Datum::Null()
                   : Datum::String(core::OperationName(context_.record->operation));
        return true;
      case Function::kTtlDelete:
        // Only a REMOVE carries the flag (the source sets it from the stream's userIdentity).
        *out = Datum::Bool(context_.record != nullptr &&
                           context_.record->operation == core::Operation::kDelete &&
                           context_.record->metadata.ttl_delete);
        return true;
      case Function::kKey: {
        const core::Value* found = nullptr;
        if (context_.record != nullptr && context_.record->key.is_map()) {
          found = context_.record->key.Find(node.key_name);
        } else if (context_.image != nullptr) {
          found = context_.image->Find(node.key_name);
        }
        *out = found == nullptr ? Datum::Null() : Datum::FromValue(*found);
        return true;
      }
      default:
        return CallStrict(node, out, error);
    }
    *error = core::Status::Internal("unknown function");
    return false;
  }

  // Functions whose arguments are all evaluated, in order, before the call.
  bool CallStrict(const Expression::Node& node, Datum* out, core::Status* error) const {
    const size_t count = node.function == Function::kItemExcept ? 0 : node.args.size();
    constexpr size_t kInline = 4;
    if (count <= kInline) {
      Datum args[kInline];
      for (size_t i = 0; i < count; ++i) {
        if (!Eval(*node.args[i], &args[i], error)) return false;
      }
      return ApplyStrict(node, args, count, context_, out, error);
    }
    std::vector<Datum> args(count);
    for (size_t i = 0; i < count; ++i) {
      if (!Eval(*node.args[i], &args[i], error)) return false;
    }
    return ApplyStrict(node, args.data(), count, context_, out, error);
  }

  bool Contains(const Expression::Node& node, Datum* out, core::Status* error) const {
    Datum collection, needle;
    if (!Eval(*node.args[0], &collection, error) || !Eval(*node.args[1], &needle, error)) {
      return false;
    }
    bool ignore_case = false;
    if (node.args.size() == 3 && !Truth(*node.args[2], "contains() ignore_case", &ignore_case, error)) {
      return false;
    }
    bool result = false;
    auto bad = [&](const char* what) {
      std::string message = "contains(): ";
      message += what;
      message += ", got ";
      message += collection.Describe();
      message += " (at position ";
      message += std::to_string(node.position);
      message += ')';
      *error = core::Status::InvalidArgument(std::move(message));
      return false;
    };
    switch (collection.kind) {
      case Datum::Kind::kNull:
        break;
      case Datum::Kind::kString:
        if (needle.kind == Datum::Kind::kString || needle.kind == Datum::Kind::kNumber) {
          result = ContainsText(collection.text, needle.text, ignore_case);
        }
        break;
      case Datum::Kind::kValue: {
        const core::Value& value = *collection.value;
        switch (value.type()) {
          case core::ValueType::kList:
            for (const auto& item : value.list()) {
              if (DatumEquals(Datum::FromValue(item), needle, ignore_case)) {
                result = true;
                break;
              }
            }
            break;
          case core::ValueType::kStringSet:
          case core::ValueType::kNumberSet:
            for (const auto& item : value.set()) {
              const Datum member = value.type() == core::ValueType::kStringSet ? Datum::String(item)
                                                                               : Datum::Number(item);
              if (DatumEquals(member, needle, ignore_case)) {
                result = true;
                break;
              }
            }
            break;
          case core::ValueType::kBinarySet:
            if (needle.kind == Datum::Kind::kValue && needle.value->type() == core::ValueType::kBinary) {
              for (const auto& item : value.set()) {
                if (item == needle.value->binary()) result = true;
              }
            }
            break;
          case core::ValueType::kMap:
            if (needle.kind == Datum::Kind::kString) {
              for (const auto& entry : value.map()) {
                if (ignore_case ? EqualsFolded(entry.first, needle.text) : entry.first == needle.text) {
                  result = true;
                  break;
                }
              }
            }
            break;
          default:
            return bad("the first argument must be a list, set, map or string");
        }
        break;
      }
      default:
        return bad("the first argument must be a list, set, map or string");
    }
    *out = Datum::Bool(result);
    return true;
  }

  bool TextFunction(const Expression::Node& node, Datum* out, core::Status* error) const {
    Datum argument;
    if (!Eval(*node.args[0], &argument, error)) return false;
    const char* name = node.function == Function::kLower   ? "lower"
                       : node.function == Function::kUpper ? "upper"
                                                           : "trim";
    if (argument.is_null()) {
      *out = Datum::Null();
      return true;
    }
    if (argument.kind != Datum::Kind::kString && argument.kind != Datum::Kind::kNumber) {
      std::string message = name;
      message += "() expects a string, got ";
      message += argument.Describe();
      message += " (at position ";
      message += std::to_string(node.position);
      message += ')';
      *error = core::Status::InvalidArgument(std::move(message));
      return false;
    }
    std::string_view text = argument.text;
    if (node.function == Function::kTrim) {
      const char* blanks = " \t\n\r\f\v";
      const size_t begin = text.find_first_not_of(blanks);
      text = begin == std::string_view::npos
                 ? std::string_view()
                 : text.substr(begin, text.find_last_not_of(blanks) - begin + 1);
      *out = Datum::String(text);
      return true;
    }
    const bool lower = node.function == Function::kLower;
    size_t first_change = 0;
    while (first_change < text.size()) {
      const char c = text[first_change];
      if (lower ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z')) break;
      ++first_change;
    }
    if (first_change == text.size()) {  // already in the wanted case: no copy
      *out = Datum::String(text);
      return true;
    }
    if (context_.strings == nullptr) {
      *error = core::Status::Internal("expression evaluated without a scratch for strings");
      return false;
    }
    std::string mapped(text);
    for (size_t i = first_change; i < mapped.size(); ++i) {
      char& c = mapped[i];
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    *out = Datum::String(Keep(std::move(mapped)));
    return true;
  }

  const EvalContext& context_;
};

}  // namespace

const core::Value* FindScanning(const core::Value::Map& entries, const std::string& name, const LookupHint& hint) {
  const size_t count = entries.size();
  for (size_t i = 0; i < count; ++i) {
    if (SameName(entries[i].first, name)) {
      hint.index.store(static_cast<uint32_t>(i), std::memory_order_relaxed);
      return &entries[i].second;
    }
  }
  return nullptr;
}

bool PositionError(const Expression::Node& node, std::string what, core::Status* error) {
  what += " (at position ";
  what += std::to_string(node.position);
  what += ')';
  *error = core::Status::InvalidArgument(std::move(what));
  return false;
}

bool StepError(const Expression::Node& node, size_t step, const core::Value& value,
             const char* expected, core::Status* error) {
  std::string message = "path ";
  message += node.path_text;
  message += ": ";
  message += step == 0 ? std::string("the item") : PathPrefix(node.path, step);
  message += " is ";
  message += Datum::FromValue(value).Describe();
  message += ", not ";
  message += expected;
  *error = core::Status::InvalidArgument(std::move(message));
  return false;
}

Datum Datum::FromValue(const core::Value& value) {
  Datum d;
  d.value = &value;
  switch (value.type()) {
    case core::ValueType::kNull: d.kind = Kind::kNull; break;
    case core::ValueType::kBool:
      d.kind = Kind::kBool;
      d.boolean = value.as_bool();
      break;
    case core::ValueType::kString:
      d.kind = Kind::kString;
      d.text = value.as_string();
      break;
    case core::ValueType::kNumber:
      d.kind = Kind::kNumber;
      d.text = value.number_text();
      break;
    default: d.kind = Kind::kValue; break;
  }
  return d;
}

std::string_view Datum::TypeName() const {
  switch (kind) {
    case Kind::kNull: return "NULL";
    case Kind::kBool: return "BOOL";
    case Kind::kString: return "S";
    case Kind::kNumber: return "N";
    case Kind::kTimestamp: return "timestamp";
    case Kind::kValue: return core::TypeDescriptor(value->type());
  }
  return "?";
}

std::string Datum::Describe() const {
  std::string out(TypeName());
  switch (kind) {
    case Kind::kNull: break;
    case Kind::kBool: out += boolean ? " true" : " false"; break;
    case Kind::kString:
      out += " \"";
      out += Shorten(text, 64);
      out += '"';
      break;
    case Kind::kNumber:
      out += ' ';
      out += Shorten(text, 64);
      break;
    case Kind::kTimestamp:
      out += ' ';
      TimestampText::AppendIso(micros, out);
      break;
    case Kind::kValue:
      out += ' ';
      out += Shorten(value->DebugString(), 64);
      break;
  }
  return out;
}

bool DatumEquals(const Datum& a, const Datum& b, bool ignore_case) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Datum::Kind::kNull: return true;
    case Datum::Kind::kBool: return a.boolean == b.boolean;
    case Datum::Kind::kString: return ignore_case ? EqualsFolded(a.text, b.text) : a.text == b.text;
    case Datum::Kind::kNumber: return NumberTextsEqual(a.text, b.text);
    case Datum::Kind::kTimestamp: return a.micros == b.micros;
    case Datum::Kind::kValue: return *a.value == *b.value;
  }
  return false;
}

Expression::Expression(std::string source, std::unique_ptr<Node> root)
    : source_(std::move(source)), root_(std::move(root)) {}
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

namespace {
bool CollectFrom(const Expression::Node& node, std::set<std::string>* names) {
  // The whole item: every attribute matters.
  if (node.kind == NodeKind::kCall &&
      (node.function == Function::kItem || node.function == Function::kItemExcept)) {
    return false;
  }
  if (node.kind == NodeKind::kPath && node.root == PathRoot::kImage) {
    if (node.path.empty() || node.path[0].is_index) return false;
    names->insert(node.path[0].name);
  }
  // key(name) reads the record's key, and the image when a record carries no key map.
  if (node.kind == NodeKind::kCall && node.function == Function::kKey && !node.key_name.empty()) {
    names->insert(node.key_name);
  }
  for (const auto& arg : node.args) {
    if (!CollectFrom(*arg, names)) return false;
  }
  return true;
}
}  // namespace

bool Expression::CollectTopLevelAttributes(std::set<std::string>* names) const { return CollectFrom(*root_, names); }

namespace {

bool NodeCanBeNull(const Expression::Node& node) {
  if (IsStrictOperator(node.kind)) {
    return std::any_of(node.args.begin(), node.args.end(),
                       [](const std::unique_ptr<Expression::Node>& arg) { return NodeCanBeNull(*arg); });
  }
  switch (node.kind) {
    case NodeKind::kLiteral: return node.literal.is_null();
    case NodeKind::kPath: return true;
    case NodeKind::kAnd:
    case NodeKind::kOr:
    case NodeKind::kNot:
    case NodeKind::kEquals:
    case NodeKind::kNotEquals: return false;
    case NodeKind::kCall:
      switch (node.function) {
        case Function::kCoalesce:
          return std::all_of(node.args.begin(), node.args.end(),
                             [](const std::unique_ptr<Expression::Node>& arg) { return NodeCanBeNull(*arg); });
        case Function::kIf:
          return node.args.size() < 3 || NodeCanBeNull(*node.args[1]) || NodeCanBeNull(*node.args[2]);
        case Function::kLower:
        case Function::kUpper:
        case Function::kTrim: return node.args.empty() || NodeCanBeNull(*node.args[0]);
        case Function::kContains:
        case Function::kExists:
        case Function::kNow:
        case Function::kChangeTime:
        case Function::kOperation:
        case Function::kTtlDelete:
        case Function::kKey: return false;  // an item always carries its key attributes
        case Function::kConcat: return false;  // skips nulls; all null gives ''
        default: return true;  // the newer functions: null in, null out (or no match)
      }
    default: break;  // the strict operators, above
  }
  return true;
}

bool NodeReadsChangeKind(const Expression::Node& node) {
  if (node.kind == NodeKind::kCall &&
      (node.function == Function::kOperation || node.function == Function::kTtlDelete)) {
    return true;
  }
  return std::any_of(node.args.begin(), node.args.end(),
                     [](const std::unique_ptr<Expression::Node>& arg) { return NodeReadsChangeKind(*arg); });
}

bool NodeReadsElement(const Expression::Node& node) {
  if (node.kind == NodeKind::kPath && node.root != PathRoot::kImage) return true;
  return std::any_of(node.args.begin(), node.args.end(),
                     [](const std::unique_ptr<Expression::Node>& arg) { return NodeReadsElement(*arg); });
}

}  // namespace

bool Expression::CanBeNull() const { return NodeCanBeNull(*root_); }

bool Expression::ReadsElement() const { return NodeReadsElement(*root_); }

bool Expression::ReadsChangeKind() const { return NodeReadsChangeKind(*root_); }

bool Expression::IsNullLiteral() const {
  return root_->kind == NodeKind::kLiteral && root_->literal.is_null();
}

bool Expression::Evaluate(const EvalContext& context, Datum* out, core::Status* error) const {
  if (root_->kind == NodeKind::kPath) {  // most columns are a bare path
    const core::Value* found = nullptr;
    if (!ResolveRooted(*root_, context, &found, error)) return false;
    *out = found == nullptr ? Datum::Null() : Datum::FromValue(*found);
    return true;
  }
  return Evaluator(context).Eval(*root_, out, error);
}

core::Result<Datum> Expression::Evaluate(const EvalContext& context) const {
  Datum out;
  core::Status error;
  if (!Evaluate(context, &out, &error)) return error;
  return out;
}

}  // namespace ddb2pg::processor
