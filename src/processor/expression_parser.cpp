// The expression grammar (see expression.h for the language):
//
//   expr       := or
//   or         := and (('or' | '||') and)*
//   and        := not (('and' | '&&') not)*
//   not        := ('not' | '!') not | comparison
//   comparison := primary (('==' | '=' | '!=' | '<>') primary)?
//   primary    := literal | '(' expr ')' | name '(' [expr (',' expr)*] ')' | path
//   path       := name ('.' name | '[' integer ']')*
//
// Recursive descent over a hand-written lexer; errors carry the 1-based position of the token
// that is wrong. Parsing happens once per config load, so clarity wins over speed here.
#include <cctype>
#include <stdexcept>
#include <utility>

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
};

// A bound on the tree's depth, so that parsing, evaluating and freeing an expression recurse a
// bounded number of frames whatever the text (fuzzing found a stack overflow at ~2,800 nested
// parentheses). Parentheses, function calls and `not` each add a level, and so does each operand
// chained by `and` / `or` (they build a left-deep tree). Real expressions stay far below it.
constexpr int kMaxNesting = 256;

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

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

  NodePtr ParseOr() {
    NestingGuard guard(*this, token_.offset);
    auto left = ParseAnd();
    while (token_.kind == TokenKind::kOr) {
      guard.Deeper(token_.offset);
      auto node = MakeNode(NodeKind::kOr, token_.offset);
      Advance();
      node->args.push_back(std::move(left));
      node->args.push_back(ParseAnd());
      left = std::move(node);
    }
    return left;
  }

  NodePtr ParseAnd() {
    NestingGuard guard(*this, token_.offset);
    auto left = ParseNot();
    while (token_.kind == TokenKind::kAnd) {
      guard.Deeper(token_.offset);
      auto node = MakeNode(NodeKind::kAnd, token_.offset);
      Advance();
      node->args.push_back(std::move(left));
      node->args.push_back(ParseNot());
      left = std::move(node);
    }
    return left;
  }

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

  NodePtr ParseComparison() {
    auto left = ParsePrimary();
    if (token_.kind != TokenKind::kEquals && token_.kind != TokenKind::kNotEquals) return left;
    auto node = MakeNode(token_.kind == TokenKind::kEquals ? NodeKind::kEquals : NodeKind::kNotEquals,
                         token_.offset);
    Advance();
    node->args.push_back(std::move(left));
    node->args.push_back(ParsePrimary());
    if (token_.kind == TokenKind::kEquals || token_.kind == TokenKind::kNotEquals) {
      throw ParseError{token_.offset, "comparisons do not chain; use parentheses"};
    }
    return node;
  }

  NodePtr ParsePrimary() {
    const size_t offset = token_.offset;
    switch (token_.kind) {
      case TokenKind::kString: {
        auto node = MakeNode(NodeKind::kLiteral, offset);
        node->literal_text = std::move(token_.text);
        node->literal = Datum::String(node->literal_text);
        Advance();
        return node;
      }
      case TokenKind::kNumber: {
        auto node = MakeNode(NodeKind::kLiteral, offset);
        node->literal_text = std::move(token_.text);
        node->literal = Datum::Number(node->literal_text);
        Advance();
        return node;
      }
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
        return ParsePath();
      case TokenKind::kQuotedName:
        return ParsePath();
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

  NodePtr ParsePath() {
    const size_t offset = token_.offset;
    auto node = MakeNode(NodeKind::kPath, offset);
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
        throw ParseError{cursor_, "unexpected '<' (only ==, != and <> compare)"};
      case '&':
        if (next == '&') return single(TokenKind::kAnd, 2);
        throw ParseError{cursor_, "unexpected '&' (did you mean '&&' or 'and'?)"};
      case '|':
        if (next == '|') return single(TokenKind::kOr, 2);
        throw ParseError{cursor_, "unexpected '|' (did you mean '||' or 'or'?)"};
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
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
        (c == '-' && (std::isdigit(static_cast<unsigned char>(next)) || next == '.'))) {
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
    if (source_[i] == '-') ++i;
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
  int nesting_ = 0;
  size_t cursor_ = 0;
  Token token_;
};

}  // namespace

core::Result<Expression> Expression::Parse(std::string_view source) {
  try {
    Parser parser(source);
    auto root = parser.ParseAll();
    return Expression(std::string(source), std::move(root));
  } catch (const ParseError& error) {
    return core::Status::InvalidArgument("position " + std::to_string(error.offset + 1) + ": " +
                                         error.message);
  }
}

}  // namespace ddb2pg::processor
