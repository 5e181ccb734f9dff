// The expression grammar (see expression.h for the language):
//
//   expr       := or
//   or         := and ('or' and)*
//   and        := not (('and' | '&&') not)*
//   not        := ('not' | '!') not | comparison
//   comparison := concat (('==' | '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=') concat)?
//   concat     := additive ('||' additive)*
//   additive   := term (('+' | '-') term)*
//   term       := unary (('*' | '/' | '%') unary)*
//   unary      := '-' unary | primary
//   primary    := literal | '(' expr ')' | name '(' [expr (',' expr)*] ')' | path
//   path       := name ('.' name | '[' integer ']')*
//
// Recursive descent over a hand-written lexer; errors carry the 1-based position of the token
// that is wrong. Parsing happens once per config load, so clarity wins over speed here.
#include <cctype>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <utility>

#include <re2/re2.h>

#include "processor/expression.h"
#include "processor/expression_node.h"

namespace ddb2pg::processor {

namespace {

enum class TokenKind {
  kEnd,
  kIdentifier,
  kQuotedName,
  kString,
  kNumber,
  kLeftParen,
  kRightParen,
  kLeftBracket,
  kRightBracket,
  kDot,
  kComma,
  kEquals,
  kNotEquals,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kConcat,
  kAnd,
  kOr,
  kNot,
  kTrue,
  kFalse,
  kNull,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;   // 0-based start in the source
  std::string text;    // identifier / name / string contents / number text
};

// Thrown inside the parser only; Parse() turns it into a Status.
struct ParseError {
  size_t offset;
  std::string message;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd: return "end of expression";
    case TokenKind::kIdentifier: return "name '" + token.text + "'";
    case TokenKind::kQuotedName: return "quoted name '" + token.text + "'";
    case TokenKind::kString: return "string '" + token.text + "'";
    case TokenKind::kNumber: return "number " + token.text;
    case TokenKind::kLeftParen: return "'('";
    case TokenKind::kRightParen: return "')'";
    case TokenKind::kLeftBracket: return "'['";
    case TokenKind::kRightBracket: return "']'";
    case TokenKind::kDot: return "'.'";
    case TokenKind::kComma: return "','";
    case TokenKind::kEquals: return "'=='";
    case TokenKind::kNotEquals: return "'!='";
    case TokenKind::kLess: return "'<'";
    case TokenKind::kLessEqual: return "'<='";
    case TokenKind::kGreater: return "'>'";
    case TokenKind::kGreaterEqual: return "'>='";
    case TokenKind::kPlus: return "'+'";
    case TokenKind::kMinus: return "'-'";
    case TokenKind::kStar: return "'*'";
    case TokenKind::kSlash: return "'/'";
    case TokenKind::kPercent: return "'%'";
    case TokenKind::kConcat: return "'||'";
    case TokenKind::kAnd: return "'and'";
    case TokenKind::kOr: return "'or'";
    case TokenKind::kNot: return "'not'";
    case TokenKind::kTrue: return "'true'";
    case TokenKind::kFalse: return "'false'";
    case TokenKind::kNull: return "'null'";
  }
  return "?";
}

struct FunctionInfo {
  std::string_view name;
  Function function;
  size_t min_args;
  size_t max_args;
};

constexpr FunctionInfo kFunctions[] = {
    {"coalesce", Function::kCoalesce, 1, 1000},
    {"contains", Function::kContains, 2, 3},
    {"if", Function::kIf, 3, 3},
    {"exists", Function::kExists, 1, 1},
    {"lower", Function::kLower, 1, 1},
    {"upper", Function::kUpper, 1, 1},
    {"trim", Function::kTrim, 1, 1},
    {"now", Function::kNow, 0, 0},
    {"change_time", Function::kChangeTime, 0, 0},
    {"operation", Function::kOperation, 0, 0},
    {"ttl_delete", Function::kTtlDelete, 0, 0},
    {"key", Function::kKey, 1, 1},
    {"concat", Function::kConcat, 1, 1000},
    {"substr", Function::kSubstr, 2, 3},
    {"length", Function::kLength, 1, 1},
    {"replace", Function::kReplace, 3, 3},
    {"regex_match", Function::kRegexMatch, 2, 2},
    {"regex_extract", Function::kRegexExtract, 2, 3},
    {"regex_replace", Function::kRegexReplace, 3, 3},
    {"split", Function::kSplit, 2, 2},
    {"join", Function::kJoin, 2, 2},
    {"round", Function::kRound, 1, 2},
    {"abs", Function::kAbs, 1, 1},
    {"floor", Function::kFloor, 1, 1},
    {"ceil", Function::kCeil, 1, 1},
    {"to_text", Function::kToText, 1, 1},
    {"to_number", Function::kToNumber, 1, 1},
    {"parse_time", Function::kParseTime, 2, 2},
    {"format_time", Function::kFormatTime, 2, 2},
    {"epoch_ms", Function::kEpochMs, 1, 1},
    {"sha256", Function::kSha256, 1, 1},
    {"md5", Function::kMd5, 1, 1},
    {"json", Function::kJson, 1, 1},
    {"item", Function::kItem, 0, 0},
    {"item_except", Function::kItemExcept, 1, 1000},
    {"keys", Function::kKeys, 1, 1},
    {"values", Function::kValues, 1, 1},
};

// True when the node always gives a boolean (or null): what `||` must not join.
bool IsBooleanNode(const Expression::Node& node) {
  switch (node.kind) {
    case NodeKind::kAnd:
    case NodeKind::kOr:
    case NodeKind::kNot:
    case NodeKind::kEquals:
    case NodeKind::kNotEquals:
    case NodeKind::kLess:
    case NodeKind::kLessEqual:
    case NodeKind::kGreater:
    case NodeKind::kGreaterEqual: return true;
    case NodeKind::kLiteral: return node.literal.kind == Datum::Kind::kBool;
    case NodeKind::kCall:
      return node.function == Function::kExists || node.function == Function::kContains ||
             node.function == Function::kTtlDelete || node.function == Function::kRegexMatch;
    default: return false;
  }
}

constexpr const char* kConcatIsNotOr =
    "'||' joins text (it is no longer a logical or); for a logical or write 'or'";

// A bound on the tree's depth, so that parsing, evaluating and freeing an expression recurse a
// bounded number of frames whatever the text (fuzzing found a stack overflow at ~2,800 nested
// parentheses). Parentheses, function calls and `not` each add a level, and so does each operand
// chained by `and` / `or` (they build a left-deep tree). Real expressions stay far below it.
constexpr int kMaxNesting = 256;

class Parser {
 public:
  Parser(std::string_view source, bool element_roots) : source_(source), element_roots_(element_roots) {}

  std::unique_ptr<Expression::Node> ParseAll() {
    Advance();
    if (token_.kind == TokenKind::kEnd) throw ParseError{0, "the expression is empty"};
    auto root = ParseOr();
    if (token_.kind != TokenKind::kEnd) {
      throw ParseError{token_.offset, "unexpected " + Describe(token_) + " after a complete expression"};
    }
    return root;
  }

 private:
  using NodePtr = std::unique_ptr<Expression::Node>;

  static NodePtr MakeNode(NodeKind kind, size_t offset) {
    auto node = std::make_unique<Expression::Node>();
    node->kind = kind;
    node->position = static_cast<int>(offset) + 1;
    return node;
  }

  // Adds a level of nesting (Deeper) for as long as it is alive; restores the level it found.
  class NestingGuard {
   public:
    NestingGuard(Parser& parser, size_t offset) : parser_(parser), saved_(parser.nesting_) { Deeper(offset); }
    ~NestingGuard() { parser_.nesting_ = saved_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

    void Deeper(size_t offset) {
      if (++parser_.nesting_ > kMaxNesting) {
        throw ParseError{offset, "the expression nests deeper than " + std::to_string(kMaxNesting) + " levels"};
      }
    }

   private:
    Parser& parser_;
    int saved_;
  };

  // One more level for each operand a binary operator chains (they build a left-deep tree).
  void Chain(std::optional<NestingGuard>& guard) {
    if (guard) guard->Deeper(token_.offset);
    else guard.emplace(*this, token_.offset);
  }

  // `operand (OP operand)*` for `and` / `or`: a left-deep tree, each link one nesting level more.
  NodePtr ParseLogical(TokenKind op, NodeKind kind, NodePtr (Parser::*operand)()) {
    NestingGuard guard(*this, token_.offset);
    auto left = (this->*operand)();
    while (token_.kind == op) {
      guard.Deeper(token_.offset);
      auto node = MakeNode(kind, token_.offset);
      Advance();
      node->args.push_back(std::move(left));
      node->args.push_back((this->*operand)());
      left = std::move(node);
    }
    return left;
  }

  NodePtr ParseOr() { return ParseLogical(TokenKind::kOr, NodeKind::kOr, &Parser::ParseAnd); }
  NodePtr ParseAnd() { return ParseLogical(TokenKind::kAnd, NodeKind::kAnd, &Parser::ParseNot); }

  NodePtr ParseNot() {
    if (token_.kind == TokenKind::kNot) {
      NestingGuard guard(*this, token_.offset);
      auto node = MakeNode(NodeKind::kNot, token_.offset);
      Advance();
      node->args.push_back(ParseNot());
      return node;
    }
    return ParseComparison();
  }

  static bool ComparisonKind(TokenKind token, NodeKind* kind) {
    switch (token) {
      case TokenKind::kEquals: *kind = NodeKind::kEquals; return true;
      case TokenKind::kNotEquals: *kind = NodeKind::kNotEquals; return true;
      case TokenKind::kLess: *kind = NodeKind::kLess; return true;
      case TokenKind::kLessEqual: *kind = NodeKind::kLessEqual; return true;
      case TokenKind::kGreater: *kind = NodeKind::kGreater; return true;
      case TokenKind::kGreaterEqual: *kind = NodeKind::kGreaterEqual; return true;
      default: return false;
    }
  }

  NodePtr ParseComparison() {
    auto left = ParseConcat();
    NodeKind kind;
    if (!ComparisonKind(token_.kind, &kind)) return left;
    auto node = MakeNode(kind, token_.offset);
    Advance();
    node->args.push_back(std::move(left));
    node->args.push_back(ParseConcat());
    if (ComparisonKind(token_.kind, &kind)) {
      // `a == 1 || b == 2` written for a logical or parses as a == (1 || b) == 2.
      const Expression::Node& right = *node->args[1];
      if (right.kind == NodeKind::kConcat) {
        throw ParseError{static_cast<size_t>(right.position - 1),
                         std::string(kConcatIsNotOr) + " (|| binds tighter than comparisons)"};
      }
      throw ParseError{token_.offset, "comparisons do not chain; use parentheses"};
    }
    return node;
  }

  // One precedence level of binary operators, `operand (operator operand)*`, as a left-deep tree.
  // `operators` maps this level's operator tokens to their node kinds (any other token ends it);
  // check_operator(node, left, offset) runs once the operator is read (token_ is then the first of
  // the right operand), check_operands(node, offset) once both operands are in. Nesting counts a
  // level only once an operator chains operands.
  using Operators = std::initializer_list<std::pair<TokenKind, NodeKind>>;
  template <typename CheckOperator, typename CheckOperands>
  NodePtr ParseChain(NodePtr (Parser::*operand)(), Operators operators, CheckOperator check_operator,
                     CheckOperands check_operands) {
    const auto kind_of = [&](TokenKind token) -> std::optional<NodeKind> {
      for (const auto& [op, kind] : operators) {
        if (op == token) return kind;
      }
      return std::nullopt;
    };
    std::optional<NestingGuard> guard;
    auto left = (this->*operand)();
    for (std::optional<NodeKind> kind = kind_of(token_.kind); kind; kind = kind_of(token_.kind)) {
      Chain(guard);
      const size_t offset = token_.offset;
      auto node = MakeNode(*kind, offset);
      Advance();
      check_operator(*node, *left, offset);
      node->args.push_back(std::move(left));
      node->args.push_back((this->*operand)());
      check_operands(*node, offset);
      left = std::move(node);
    }
    return left;
  }

  static void NoCheck(const Expression::Node&, const Expression::Node&, size_t) {}
  static void NoOperandCheck(const Expression::Node&, size_t) {}

  NodePtr ParseConcat() {
    return ParseChain(
        &Parser::ParseAdditive, {{TokenKind::kConcat, NodeKind::kConcat}}, NoCheck, [](const Expression::Node& node, size_t offset) {
          for (const auto& operand : node.args) {
            if (IsBooleanNode(*operand)) {
              throw ParseError{offset, std::string(kConcatIsNotOr) + "; an operand here is a boolean"};
            }
          }
        });
  }

  NodePtr ParseAdditive() {
    return ParseChain(
        &Parser::ParseTerm, {{TokenKind::kPlus, NodeKind::kAdd}, {TokenKind::kMinus, NodeKind::kSubtract}},
        [this](const Expression::Node& node, const Expression::Node& left, size_t offset) {
          // `first-name` is far more often an attribute name than a subtraction of two attributes.
          if (node.kind == NodeKind::kSubtract && left.kind == NodeKind::kPath && offset > 0 &&
              !std::isspace(static_cast<unsigned char>(source_[offset - 1])) && token_.offset == offset + 1 &&
              token_.kind == TokenKind::kIdentifier) {
            throw ParseError{offset, "'-' between two names reads as a subtraction; quote a name with a '-' "
                                     "(\"first-name\" or `first-name`), or put spaces around the minus"};
          }
        },
        NoOperandCheck);
  }

  NodePtr ParseTerm() {
    return ParseChain(&Parser::ParseUnary,
                      {{TokenKind::kStar, NodeKind::kMultiply},
                       {TokenKind::kSlash, NodeKind::kDivide},
                       {TokenKind::kPercent, NodeKind::kRemainder}},
                      NoCheck, NoOperandCheck);
  }

  NodePtr ParseUnary() {
    if (token_.kind != TokenKind::kMinus) return ParsePrimary();
    NestingGuard guard(*this, token_.offset);
    const size_t offset = token_.offset;
    Advance();
    if (token_.kind == TokenKind::kNumber && token_.offset == offset + 1) {
      // -3.5 is a literal, not an operation.
      auto node = MakeNode(NodeKind::kLiteral, offset);
      node->literal_text = "-" + token_.text;
      node->literal = Datum::Number(node->literal_text);
      Advance();
      return node;
    }
    auto node = MakeNode(NodeKind::kNegate, offset);
    node->args.push_back(ParseUnary());
    return node;
  }

  // A string or number literal of the current token's text: the node keeps the text, and `make`
  // builds the value from the node's copy (a value may point into it, so the text goes first).
  template <typename Make>
  NodePtr TextLiteral(size_t offset, Make make) {
    auto node = MakeNode(NodeKind::kLiteral, offset);
    node->literal_text = std::move(token_.text);
    node->literal = make(node->literal_text);
    Advance();
    return node;
  }

  NodePtr ParsePrimary() {
    const size_t offset = token_.offset;
    switch (token_.kind) {
      case TokenKind::kString: return TextLiteral(offset, [](const std::string& text) { return Datum::String(text); });
      case TokenKind::kNumber: return TextLiteral(offset, [](const std::string& text) { return Datum::Number(text); });
      case TokenKind::kTrue:
      case TokenKind::kFalse: {
        auto node = MakeNode(NodeKind::kLiteral, offset);
        node->literal = Datum::Bool(token_.kind == TokenKind::kTrue);
        Advance();
        return node;
      }
      case TokenKind::kNull: {
        auto node = MakeNode(NodeKind::kLiteral, offset);
        Advance();
        return node;
      }
      case TokenKind::kLeftParen: {
        Advance();
        auto inner = ParseOr();
        Expect(TokenKind::kRightParen, "to close the '(' at position " + std::to_string(offset + 1));
        return inner;
      }
      case TokenKind::kIdentifier:
        if (NextCharIs('(')) return ParseCall();
        return ParsePath(element_roots_);
      case TokenKind::kQuotedName:
        return ParsePath(false);
      default:
        throw ParseError{offset, "expected a value, a path or a function call, found " + Describe(token_)};
    }
  }

  NodePtr ParseCall() {
    const size_t offset = token_.offset;
    const std::string name = token_.text;
    const FunctionInfo* info = nullptr;
    for (const auto& candidate : kFunctions) {
      if (EqualsIgnoreCase(candidate.name, name)) info = &candidate;
    }
    if (info == nullptr) {
      std::string known;
      for (const auto& candidate : kFunctions) {
        if (!known.empty()) known += ", ";
        known += candidate.name;
      }
      throw ParseError{offset, "unknown function '" + name + "' (known: " + known + ")"};
    }
    auto node = MakeNode(NodeKind::kCall, offset);
    node->function = info->function;
    node->function_name = info->name;
    Advance();  // name
    Advance();  // '('
    if (token_.kind != TokenKind::kRightParen) {
      while (true) {
        node->args.push_back(ParseOr());
        if (token_.kind != TokenKind::kComma) break;
        Advance();
      }
    }
    Expect(TokenKind::kRightParen, "to close " + std::string(info->name) + "(");
    const size_t count = node->args.size();
    if (count < info->min_args || count > info->max_args) {
      std::string expected = info->min_args == info->max_args
                                 ? std::to_string(info->min_args)
                                 : info->max_args >= 1000
                                       ? "at least " + std::to_string(info->min_args)
                                       : std::to_string(info->min_args) + " or " +
                                             std::to_string(info->max_args);
      throw ParseError{offset, std::string(info->name) + "() takes " + expected +
                                   " argument" +
                                   (info->max_args == 1 || expected == "at least 1" ? "" : "s") +
                                   ", got " +
                                   std::to_string(count)};
    }
    if (info->function == Function::kExists && node->args[0]->kind != NodeKind::kPath) {
      throw ParseError{static_cast<size_t>(node->args[0]->position - 1),
                       "exists() takes an attribute path"};
    }
    CheckLiteralArguments(*info, *node);
    if (info->function == Function::kKey) {
      const auto& arg = *node->args[0];
      if (arg.kind == NodeKind::kLiteral && arg.literal.kind == Datum::Kind::kString) {
        node->key_name = arg.literal_text;
      } else if (arg.kind == NodeKind::kPath && arg.path.size() == 1 && !arg.path[0].is_index) {
        node->key_name = arg.path[0].name;
      } else {
        throw ParseError{static_cast<size_t>(arg.position - 1),
                         "key() takes a key attribute name, e.g. key('id')"};
      }
    }
    return node;
  }

  // Arguments that must be known when the expression is compiled: regex patterns (compiled once
  // here) and the attribute names item_except() leaves out.
  static void CheckLiteralArguments(const FunctionInfo& info, Expression::Node& node) {
    const auto string_literal = [](const Expression::Node& arg) {
      return arg.kind == NodeKind::kLiteral && arg.literal.kind == Datum::Kind::kString;
    };
    switch (info.function) {
      case Function::kRegexMatch:
      case Function::kRegexExtract:
      case Function::kRegexReplace: {
        const Expression::Node& pattern = *node.args[1];
        if (!string_literal(pattern)) {
          throw ParseError{static_cast<size_t>(pattern.position - 1),
                           std::string(info.name) + "() takes its pattern as a literal string, e.g. '^[a-z]+$'"};
        }
        RE2::Options options;
        options.set_log_errors(false);
        auto regex = std::make_shared<const RE2>(pattern.literal_text, options);
        if (!regex->ok()) {
          throw ParseError{static_cast<size_t>(pattern.position - 1),
                           std::string(info.name) + "(): bad pattern '" + pattern.literal_text +
                               "': " + regex->error()};
        }
        if (info.function == Function::kRegexReplace && string_literal(*node.args[2])) {
          std::string why;
          if (!regex->CheckRewriteString(node.args[2]->literal_text, &why)) {
            throw ParseError{static_cast<size_t>(node.args[2]->position - 1),
                             "regex_replace(): bad replacement '" + node.args[2]->literal_text + "': " + why};
          }
        }
        node.regex = std::move(regex);
        break;
      }
      case Function::kItemExcept:
        for (const auto& arg : node.args) {
          if (string_literal(*arg)) {
            node.names.push_back(arg->literal_text);
          } else if (arg->kind == NodeKind::kPath && arg->path.size() == 1 && !arg->path[0].is_index) {
            node.names.push_back(arg->path[0].name);
          } else {
            throw ParseError{static_cast<size_t>(arg->position - 1),
                             "item_except() takes top-level attribute names, e.g. item_except('id', 'name')"};
          }
        }
        break;
      default: break;
    }
  }

  // `roots`: the first word may be `element` or `index` (an unquoted identifier in an exploded
  // pipeline's expression).
  NodePtr ParsePath(bool roots) {
    const size_t offset = token_.offset;
    auto node = MakeNode(NodeKind::kPath, offset);
    if (roots && token_.text == "element") node->root = PathRoot::kElement;
    if (roots && token_.text == "index") node->root = PathRoot::kIndex;
    PathStep first;
    first.name = std::move(token_.text);
    node->path.push_back(std::move(first));
    size_t end = cursor_;
    Advance();
    while (true) {
      if (token_.kind == TokenKind::kDot) {
        Advance();
        // After a dot any word is a name, keywords included (settings.null).
        if (token_.kind != TokenKind::kIdentifier && token_.kind != TokenKind::kQuotedName &&
            token_.kind != TokenKind::kTrue && token_.kind != TokenKind::kFalse &&
            token_.kind != TokenKind::kNull && token_.kind != TokenKind::kAnd &&
            token_.kind != TokenKind::kOr && token_.kind != TokenKind::kNot) {
          throw ParseError{token_.offset, "expected an attribute name after '.', found " + Describe(token_)};
        }
        PathStep step;
        step.name = token_.kind == TokenKind::kIdentifier || token_.kind == TokenKind::kQuotedName
                        ? std::move(token_.text)
                        : std::string(source_.substr(token_.offset, cursor_ - token_.offset));
        node->path.push_back(std::move(step));
        end = cursor_;
        Advance();
      } else if (token_.kind == TokenKind::kLeftBracket) {
        Advance();
        if (token_.kind != TokenKind::kNumber ||
            token_.text.find_first_not_of("0123456789") != std::string::npos ||
            token_.text.size() > 9) {
          throw ParseError{token_.offset, "expected a list index (0, 1, …) inside [ ], found " + Describe(token_)};
        }
        PathStep step;
        step.is_index = true;
        step.index = std::stoll(token_.text);
        node->path.push_back(std::move(step));
        Advance();
        if (token_.kind != TokenKind::kRightBracket) {
          throw ParseError{token_.offset, "expected ']' after the list index, found " + Describe(token_)};
        }
        end = cursor_;
        Advance();
      } else {
        break;
      }
    }
    node->path_text = std::string(source_.substr(offset, end - offset));
    if (node->root == PathRoot::kIndex && node->path.size() > 1) {
      throw ParseError{offset, "'index' is the element's position (N) or name (S) and has no attributes or "
                               "elements; to read an attribute of the item called index, quote it: \"index\""};
    }
    return node;
  }

  void Expect(TokenKind kind, const std::string& why) {
    if (token_.kind != kind) {
      Token wanted;
      wanted.kind = kind;
      throw ParseError{token_.offset, "expected " + Describe(wanted) + " " + why + ", found " + Describe(token_)};
    }
    Advance();
  }

  bool NextCharIs(char c) const {
    size_t i = cursor_;
    while (i < source_.size() && std::isspace(static_cast<unsigned char>(source_[i]))) ++i;
    return i < source_.size() && source_[i] == c;
  }

  // Lexes the next token into token_; cursor_ ends just past it.
  void Advance() {
    while (cursor_ < source_.size() && std::isspace(static_cast<unsigned char>(source_[cursor_]))) {
      ++cursor_;
    }
    token_ = Token{};
    token_.offset = cursor_;
    if (cursor_ >= source_.size()) return;
    const char c = source_[cursor_];
    const char next = cursor_ + 1 < source_.size() ? source_[cursor_ + 1] : '\0';
    auto single = [&](TokenKind kind, size_t length) {
      token_.kind = kind;
      cursor_ += length;
    };
    switch (c) {
      case '(': return single(TokenKind::kLeftParen, 1);
      case ')': return single(TokenKind::kRightParen, 1);
      case '[': return single(TokenKind::kLeftBracket, 1);
      case ']': return single(TokenKind::kRightBracket, 1);
      case '.':
        if (std::isdigit(static_cast<unsigned char>(next))) break;  // a number like .5
        return single(TokenKind::kDot, 1);
      case ',': return single(TokenKind::kComma, 1);
      case '=': return single(TokenKind::kEquals, next == '=' ? 2 : 1);
      case '!': return next == '=' ? single(TokenKind::kNotEquals, 2) : single(TokenKind::kNot, 1);
      case '<':
        if (next == '>') return single(TokenKind::kNotEquals, 2);
        if (next == '=') return single(TokenKind::kLessEqual, 2);
        return single(TokenKind::kLess, 1);
      case '>':
        if (next == '=') return single(TokenKind::kGreaterEqual, 2);
        return single(TokenKind::kGreater, 1);
      case '+': return single(TokenKind::kPlus, 1);
      case '-': return single(TokenKind::kMinus, 1);
      case '*': return single(TokenKind::kStar, 1);
      case '/': return single(TokenKind::kSlash, 1);
      case '%': return single(TokenKind::kPercent, 1);
      case '&':
        if (next == '&') return single(TokenKind::kAnd, 2);
        throw ParseError{cursor_, "unexpected '&' (did you mean '&&' or 'and'?)"};
      case '|':
        if (next == '|') return single(TokenKind::kConcat, 2);
        throw ParseError{cursor_, "unexpected '|' (did you mean '||' to join text, or 'or'?)"};
      case '\'': {
        token_.kind = TokenKind::kString;
        token_.text = ReadQuoted('\'', "string");
        return;
      }
      case '"':
      case '`': {
        token_.kind = TokenKind::kQuotedName;
        token_.text = ReadQuoted(c, "quoted name");
        if (token_.text.empty()) throw ParseError{token_.offset, "a quoted name must not be empty"};
        return;
      }
      default: break;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      ReadNumber();
      return;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = cursor_;
      while (end < source_.size() && (std::isalnum(static_cast<unsigned char>(source_[end])) ||
                                      source_[end] == '_')) {
        ++end;
      }
      const std::string_view word = source_.substr(cursor_, end - cursor_);
      cursor_ = end;
      token_.kind = TokenKind::kIdentifier;
      if (EqualsIgnoreCase(word, "and")) token_.kind = TokenKind::kAnd;
      else if (EqualsIgnoreCase(word, "or")) token_.kind = TokenKind::kOr;
      else if (EqualsIgnoreCase(word, "not")) token_.kind = TokenKind::kNot;
      else if (EqualsIgnoreCase(word, "true")) token_.kind = TokenKind::kTrue;
      else if (EqualsIgnoreCase(word, "false")) token_.kind = TokenKind::kFalse;
      else if (EqualsIgnoreCase(word, "null")) token_.kind = TokenKind::kNull;
      token_.text = std::string(word);
      return;
    }
    std::string shown(1, c);
    if (static_cast<unsigned char>(c) >= 0x80 || !std::isprint(static_cast<unsigned char>(c))) {
      shown = "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) +
              std::string(1, "0123456789abcdef"[c & 0xf]);
      throw ParseError{cursor_, "unexpected character " + shown +
                                    " (quote attribute names with other characters: \"name\" or `name`)"};
    }
    throw ParseError{cursor_, "unexpected character '" + shown +
                                  "' (quote attribute names with other characters: \"name\" or `name`)"};
  }

  std::string ReadQuoted(char quote, const char* what) {
    const size_t start = cursor_;
    ++cursor_;
    std::string text;
    while (true) {
      if (cursor_ >= source_.size()) {
        throw ParseError{start, std::string("unterminated ") + what + " (missing closing " + quote + ")"};
      }
      const char c = source_[cursor_++];
      if (c == quote) {
        if (cursor_ < source_.size() && source_[cursor_] == quote) {
          text += quote;
          ++cursor_;
          continue;
        }
        return text;
      }
      text += c;
    }
  }

  void ReadNumber() {
    const size_t start = cursor_;
    size_t i = cursor_;
    auto digits = [&] {
      while (i < source_.size() && std::isdigit(static_cast<unsigned char>(source_[i]))) ++i;
    };
    digits();
    if (i < source_.size() && source_[i] == '.') {
      ++i;
      digits();
    }
    if (i < source_.size() && (source_[i] == 'e' || source_[i] == 'E')) {
      ++i;
      if (i < source_.size() && (source_[i] == '+' || source_[i] == '-')) ++i;
      digits();
    }
    if (i < source_.size() && (std::isalpha(static_cast<unsigned char>(source_[i])) || source_[i] == '_')) {
      throw ParseError{start, "malformed number '" + std::string(source_.substr(start, i + 1 - start)) +
                                  "' (names cannot start with a digit; quote them: \"1st\")"};
    }
    std::string text(source_.substr(start, i - start));
    if (!core::IsValidNumber(text)) {
      throw ParseError{start, "'" + text + "' is not a valid DynamoDB number (at most 38 significant "
                              "digits, magnitude 1E-130 to 9.9E+125)"};
    }
    cursor_ = i;
    token_.kind = TokenKind::kNumber;
    token_.text = std::move(text);
  }

  std::string_view source_;
  bool element_roots_ = false;
  int nesting_ = 0;
  size_t cursor_ = 0;
  Token token_;
};

}  // namespace

core::Result<Expression> Expression::Parse(std::string_view source, bool element_roots) {
  try {
    Parser parser(source, element_roots);
    auto root = parser.ParseAll();
    return Expression(std::string(source), std::move(root));
  } catch (const ParseError& error) {
    return core::Status::InvalidArgument("position " + std::to_string(error.offset + 1) + ": " +
                                         error.message);
  }
}

}  // namespace ddb2pg::processor
