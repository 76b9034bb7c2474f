// Tokenizer and recursive-descent parser for the expression language, and the
// canonical printer for its syntax trees.
#include "runtime/expr/parser.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace sluice::expr {
namespace {

constexpr int kMaxDepth = 200;

constexpr std::array<std::string_view, 15> kKeywords = {"and",  "or",   "not",  "in",   "is",  "null", "true", "false",
                                                        "case", "when", "then", "else", "end", "cast", "as"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string toLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isIdentifierStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentifierPart(char c) { return isIdentifierStart(c) || (c >= '0' && c <= '9'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isKeywordText(std::string_view text) {
  for (std::string_view keyword : kKeywords) {
    if (equalsIgnoreCase(text, keyword)) return true;
  }
  return false;
}

enum class TokenKind { kEnd, kInteger, kFloat, kString, kIdentifier, kQuotedIdentifier, kSymbol };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // identifier name, symbol, literal as written; string and quoted names unescaped
  int column = 1;
};

Status errorAt(int column, std::string message) {
  return Status::invalidArgument("at column " + std::to_string(column) + ": " + std::move(message));
}

Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t position = 0;
  while (true) {
    while (position < text.size() && std::isspace(static_cast<unsigned char>(text[position]))) ++position;
    const int column = static_cast<int>(position) + 1;
    if (position >= text.size()) {
      tokens.push_back(Token{TokenKind::kEnd, "", column});
      return tokens;
    }
    const char c = text[position];
    if (isIdentifierStart(c)) {
      size_t end = position;
      while (end < text.size() && isIdentifierPart(text[end])) ++end;
      tokens.push_back(Token{TokenKind::kIdentifier, std::string(text.substr(position, end - position)), column});
      position = end;
    } else if (isDigit(c) || (c == '.' && position + 1 < text.size() && isDigit(text[position + 1]))) {
      size_t end = position;
      bool isFloat = false;
      while (end < text.size() && isDigit(text[end])) ++end;
      if (end < text.size() && text[end] == '.') {
        isFloat = true;
        ++end;
        while (end < text.size() && isDigit(text[end])) ++end;
      }
      if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
        size_t exponent = end + 1;
        if (exponent < text.size() && (text[exponent] == '+' || text[exponent] == '-')) ++exponent;
        if (exponent < text.size() && isDigit(text[exponent])) {
          isFloat = true;
          end = exponent;
          while (end < text.size() && isDigit(text[end])) ++end;
        }
      }
      if (end < text.size() && isIdentifierPart(text[end])) {
        return errorAt(static_cast<int>(end) + 1,
                       "unexpected character '" + std::string(1, text[end]) + "' after number");
      }
      tokens.push_back(Token{isFloat ? TokenKind::kFloat : TokenKind::kInteger,
                             std::string(text.substr(position, end - position)), column});
      position = end;
    } else if (c == '\'' || c == '`') {
      std::string value;
      size_t end = position + 1;
      bool closed = false;
      while (end < text.size()) {
        if (text[end] == c) {
          if (end + 1 < text.size() && text[end + 1] == c) {
            value.push_back(c);
            end += 2;
            continue;
          }
          closed = true;
          ++end;
          break;
        }
        value.push_back(text[end++]);
      }
      if (!closed) {
        return errorAt(column, c == '\'' ? "unterminated string literal" : "unterminated quoted name");
      }
      if (c == '`' && value.empty()) return errorAt(column, "empty quoted name");
      tokens.push_back(Token{c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier, std::move(value), column});
      position = end;
    } else {
      static constexpr std::array<std::string_view, 6> kTwoCharacterSymbols = {"==", "!=", "<>", "<=", ">=", "||"};
      std::string_view rest = text.substr(position);
      std::string symbol;
      for (std::string_view candidate : kTwoCharacterSymbols) {
        if (rest.starts_with(candidate)) symbol = std::string(candidate);
      }
      if (symbol.empty()) {
        if (std::string_view("()+-*/%=<>,").find(c) == std::string_view::npos) {
          return errorAt(column, "unexpected character '" + std::string(1, c) + "'");
        }
        symbol = std::string(1, c);
      }
      position += symbol.size();
      tokens.push_back(Token{TokenKind::kSymbol, std::move(symbol), column});
    }
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<SyntaxNodePtr> parse() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr root, parseOr());
    if (peek().kind != TokenKind::kEnd) return unexpected("end of expression");
    return root;
  }

 private:
  /// Bounds recursion so that a hostile expression cannot overflow the stack.
  class DepthGuard {
   public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }
    bool tooDeep() const { return depth_ > kMaxDepth; }

   private:
    int& depth_;
  };

  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(position_ + ahead, tokens_.size() - 1)]; }
  Token next() {
    Token token = tokens_[position_];
    if (position_ + 1 < tokens_.size()) ++position_;
    return token;
  }
  static bool isKeyword(const Token& token, std::string_view keyword) {
    return token.kind == TokenKind::kIdentifier && equalsIgnoreCase(token.text, keyword);
  }
  static bool isSymbol(const Token& token, std::string_view symbol) {
    return token.kind == TokenKind::kSymbol && token.text == symbol;
  }
  bool acceptKeyword(std::string_view keyword) {
    if (!isKeyword(peek(), keyword)) return false;
    next();
    return true;
  }
  bool acceptSymbol(std::string_view symbol) {
    if (!isSymbol(peek(), symbol)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd: return "end of expression";
      case TokenKind::kString: return "string '" + token.text + "'";
      case TokenKind::kQuotedIdentifier: return "`" + token.text + "`";
      default: return "'" + token.text + "'";
    }
  }
  Status unexpected(std::string_view expected) const {
    return errorAt(peek().column, "expected " + std::string(expected) + " but found " + describe(peek()));
  }
  Status expectSymbol(std::string_view symbol) {
    if (!acceptSymbol(symbol)) return unexpected("'" + std::string(symbol) + "'");
    return Status::OK();
  }
  Status expectKeyword(std::string_view keyword) {
    if (!acceptKeyword(keyword)) return unexpected("'" + std::string(keyword) + "'");
    return Status::OK();
  }

  static SyntaxNodePtr makeNode(SyntaxKind kind, int column, std::string name = {}) {
    auto node = std::make_unique<SyntaxNode>();
    node->kind = kind;
    node->column = column;
    node->name = std::move(name);
    return node;
  }
  static SyntaxNodePtr makeBinary(std::string op, int column, SyntaxNodePtr left, SyntaxNodePtr right) {
    SyntaxNodePtr node = makeNode(SyntaxKind::kBinary, column, std::move(op));
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return node;
  }

  Result<SyntaxNodePtr> parseOr() {
    DepthGuard guard(depth_);
    if (guard.tooDeep()) return errorAt(peek().column, "expression nests too deeply");
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseAnd());
    while (isKeyword(peek(), "or")) {
      const int column = next().column;
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseAnd());
      left = makeBinary("or", column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<SyntaxNodePtr> parseAnd() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseNot());
    while (isKeyword(peek(), "and")) {
      const int column = next().column;
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseNot());
      left = makeBinary("and", column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<SyntaxNodePtr> parseNot() {
    if (isKeyword(peek(), "not")) {
      DepthGuard guard(depth_);
      if (guard.tooDeep()) return errorAt(peek().column, "expression nests too deeply");
      const int column = next().column;
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr operand, parseNot());
      SyntaxNodePtr node = makeNode(SyntaxKind::kUnary, column, "not");
      node->children.push_back(std::move(operand));
      return node;
    }
    return parseComparison();
  }

  Result<SyntaxNodePtr> parseComparison() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseConcat());
    const Token& token = peek();
    if (token.kind == TokenKind::kSymbol) {
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kComparisons = {{
          {"=", "="},
          {"==", "="},
          {"!=", "!="},
          {"<>", "!="},
          {"<", "<"},
          {"<=", "<="},
          {">", ">"},
          {">=", ">="},
      }};
      for (const auto& [written, canonical] : kComparisons) {
        if (token.text == written) {
          const int column = next().column;
          SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseConcat());
          return makeBinary(std::string(canonical), column, std::move(left), std::move(right));
        }
      }
      return left;
    }
    if (isKeyword(token, "is")) {
      const int column = next().column;
      SyntaxNodePtr node = makeNode(SyntaxKind::kIsNull, column);
      node->negated = acceptKeyword("not");
      SLUICE_RETURN_NOT_OK(expectKeyword("null"));
      node->children.push_back(std::move(left));
      return node;
    }
    bool negated = false;
    int column = token.column;
    if (isKeyword(token, "not")) {
      next();
      if (!isKeyword(peek(), "in")) return unexpected("'in' after 'not'");
      negated = true;
    }
    if (isKeyword(peek(), "in")) {
      const int inColumn = next().column;
      if (!negated) column = inColumn;
      SyntaxNodePtr node = makeNode(SyntaxKind::kIn, column);
      node->negated = negated;
      node->children.push_back(std::move(left));
      SLUICE_RETURN_NOT_OK(expectSymbol("("));
      do {
        SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr member, parseOr());
        node->children.push_back(std::move(member));
      } while (acceptSymbol(","));
      SLUICE_RETURN_NOT_OK(expectSymbol(")"));
      return node;
    }
    return left;
  }

  Result<SyntaxNodePtr> parseConcat() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseAdditive());
    while (isSymbol(peek(), "||")) {
      const int column = next().column;
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseAdditive());
      left = makeBinary("||", column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<SyntaxNodePtr> parseAdditive() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseMultiplicative());
    while (isSymbol(peek(), "+") || isSymbol(peek(), "-")) {
      Token op = next();
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseMultiplicative());
      left = makeBinary(op.text, op.column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<SyntaxNodePtr> parseMultiplicative() {
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr left, parseUnary());
    while (isSymbol(peek(), "*") || isSymbol(peek(), "/") || isSymbol(peek(), "%")) {
      Token op = next();
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr right, parseUnary());
      left = makeBinary(op.text, op.column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<SyntaxNodePtr> parseUnary() {
    DepthGuard guard(depth_);
    if (guard.tooDeep()) return errorAt(peek().column, "expression nests too deeply");
    if (isSymbol(peek(), "+")) {
      next();
      return parseUnary();
    }
    if (!isSymbol(peek(), "-")) return parsePrimary();
    const int column = next().column;
    // A minus directly before a number is part of the literal, so that
    // -9223372036854775808 is representable and folds to one value.
    if (peek().kind == TokenKind::kInteger || peek().kind == TokenKind::kFloat) {
      return parseNumber(/*negative=*/true, column);
    }
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr operand, parseUnary());
    SyntaxNodePtr node = makeNode(SyntaxKind::kUnary, column, "-");
    node->children.push_back(std::move(operand));
    return node;
  }

  Result<SyntaxNodePtr> parseNumber(bool negative, int column) {
    Token token = next();
    SyntaxNodePtr node = makeNode(SyntaxKind::kLiteral, column);
    const char* begin = token.text.data();
    const char* end = begin + token.text.size();
    if (token.kind == TokenKind::kInteger) {
      uint64_t magnitude = 0;
      auto [pointer, error] = std::from_chars(begin, end, magnitude);
      const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
      if (error != std::errc() || pointer != end || magnitude > limit) {
        return errorAt(
            column, "integer literal " + std::string(negative ? "-" : "") + token.text + " is out of the int64 range");
      }
      node->literalKind = LiteralKind::kInteger;
      node->integerValue = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      return node;
    }
    double value = 0;
    auto [pointer, error] = std::from_chars(begin, end, value);
    if (error != std::errc() || pointer != end || !std::isfinite(value)) {
      return errorAt(column, "float literal " + token.text + " is out of range");
    }
    node->literalKind = LiteralKind::kFloat;
    node->floatValue = negative ? -value : value;
    return node;
  }

  Result<SyntaxNodePtr> parsePrimary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kInteger:
      case TokenKind::kFloat: return parseNumber(/*negative=*/false, token.column);
      case TokenKind::kString: {
        SyntaxNodePtr node = makeNode(SyntaxKind::kLiteral, token.column);
        node->literalKind = LiteralKind::kString;
        node->stringValue = next().text;
        return node;
      }
      case TokenKind::kQuotedIdentifier: {
        const int column = token.column;
        return makeNode(SyntaxKind::kField, column, next().text);
      }
      case TokenKind::kSymbol:
        if (isSymbol(token, "(")) {
          next();
          SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr inner, parseOr());
          SLUICE_RETURN_NOT_OK(expectSymbol(")"));
          return inner;
        }
        return unexpected("an expression");
      case TokenKind::kEnd: return unexpected("an expression");
      case TokenKind::kIdentifier: break;
    }
    if (isKeyword(token, "true") || isKeyword(token, "false") || isKeyword(token, "null")) {
      SyntaxNodePtr node = makeNode(SyntaxKind::kLiteral, token.column);
      if (isKeyword(token, "null")) {
        node->literalKind = LiteralKind::kNull;
      } else {
        node->literalKind = LiteralKind::kBool;
        node->boolValue = isKeyword(token, "true");
      }
      next();
      return node;
    }
    if (isKeyword(token, "case")) return parseCase();
    if (isKeyword(token, "cast")) return parseCast();
    if (isKeywordText(token.text)) return unexpected("an expression");
    Token name = next();
    if (!acceptSymbol("(")) return makeNode(SyntaxKind::kField, name.column, name.text);
    SyntaxNodePtr call = makeNode(SyntaxKind::kCall, name.column, toLower(name.text));
    if (acceptSymbol(")")) return call;
    do {
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr argument, parseOr());
      call->children.push_back(std::move(argument));
    } while (acceptSymbol(","));
    SLUICE_RETURN_NOT_OK(expectSymbol(")"));
    return call;
  }

  Result<SyntaxNodePtr> parseCase() {
    SyntaxNodePtr node = makeNode(SyntaxKind::kCase, next().column);
    if (!isKeyword(peek(), "when")) {
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr operand, parseOr());
      node->hasOperand = true;
      node->children.push_back(std::move(operand));
    }
    if (!isKeyword(peek(), "when")) return unexpected("'when'");
    while (acceptKeyword("when")) {
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr condition, parseOr());
      SLUICE_RETURN_NOT_OK(expectKeyword("then"));
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr value, parseOr());
      node->children.push_back(std::move(condition));
      node->children.push_back(std::move(value));
    }
    if (acceptKeyword("else")) {
      SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr value, parseOr());
      node->hasElse = true;
      node->children.push_back(std::move(value));
    }
    SLUICE_RETURN_NOT_OK(expectKeyword("end"));
    return node;
  }

  Result<SyntaxNodePtr> parseCast() {
    SyntaxNodePtr node = makeNode(SyntaxKind::kCast, next().column);
    SLUICE_RETURN_NOT_OK(expectSymbol("("));
    SLUICE_ASSIGN_OR_RETURN(SyntaxNodePtr operand, parseOr());
    node->children.push_back(std::move(operand));
    SLUICE_RETURN_NOT_OK(expectKeyword("as"));
    if (peek().kind != TokenKind::kIdentifier) return unexpected("a type name");
    Token typeName = next();
    auto type = parseDataType(toLower(typeName.text));
    if (!type) {
      return errorAt(typeName.column,
                     "unknown type '" + typeName.text + "' (types: bool, int64, uint64, float64, string, timestamp)");
    }
    node->castType = *type;
    SLUICE_RETURN_NOT_OK(expectSymbol(")"));
    return node;
  }

  std::vector<Token> tokens_;
  size_t position_ = 0;
  int depth_ = 0;
};

/// Binding strength, higher binds tighter; the printer parenthesises by it.
int precedence(const SyntaxNode& node) {
  switch (node.kind) {
    case SyntaxKind::kBinary:
      if (node.name == "or") return 1;
      if (node.name == "and") return 2;
      if (node.name == "||") return 5;
      if (node.name == "+" || node.name == "-") return 6;
      if (node.name == "*" || node.name == "/" || node.name == "%") return 7;
      return 4;  // comparisons
    case SyntaxKind::kUnary: return node.name == "not" ? 3 : 8;
    case SyntaxKind::kIn:
    case SyntaxKind::kIsNull: return 4;
    case SyntaxKind::kLiteral:
      // A negative number printed after an operator must not merge with it.
      if (node.literalKind == LiteralKind::kInteger && node.integerValue < 0) return 8;
      if (node.literalKind == LiteralKind::kFloat && std::signbit(node.floatValue)) return 8;
      return 9;
    default: return 9;
  }
}

void format(const SyntaxNode& node, std::string& out);

void formatChild(const SyntaxNode& child, int minimum, std::string& out) {
  const bool parenthesise = precedence(child) < minimum;
  if (parenthesise) out.push_back('(');
  format(child, out);
  if (parenthesise) out.push_back(')');
}

void formatQuoted(std::string_view text, char quote, std::string& out) {
  out.push_back(quote);
  for (char c : text) {
    out.push_back(c);
    if (c == quote) out.push_back(quote);
  }
  out.push_back(quote);
}

void format(const SyntaxNode& node, std::string& out) {
  switch (node.kind) {
    case SyntaxKind::kLiteral:
      switch (node.literalKind) {
        case LiteralKind::kInteger: out.append(std::to_string(node.integerValue)); break;
        case LiteralKind::kFloat: {
          char buffer[64];
          auto result = std::to_chars(buffer, buffer + sizeof(buffer), node.floatValue);
          std::string_view text(buffer, result.ptr);
          out.append(text);
          if (text.find_first_of(".e") == std::string_view::npos) out.append(".0");
          break;
        }
        case LiteralKind::kString: formatQuoted(node.stringValue, '\'', out); break;
        case LiteralKind::kBool: out.append(node.boolValue ? "true" : "false"); break;
        case LiteralKind::kNull: out.append("null"); break;
      }
      return;
    case SyntaxKind::kField:
      if (isPlainIdentifier(node.name)) {
        out.append(node.name);
      } else {
        formatQuoted(node.name, '`', out);
      }
      return;
    case SyntaxKind::kUnary:
      if (node.name == "not") {
        out.append("not ");
        formatChild(*node.children[0], 3, out);
      } else {
        out.append("-");
        formatChild(*node.children[0], 8, out);
      }
      return;
    case SyntaxKind::kBinary: {
      const int own = precedence(node);
      // Comparisons do not chain, so both sides must bind tighter.
      formatChild(*node.children[0], own == 4 ? own + 1 : own, out);
      out.append(" ").append(node.name).append(" ");
      formatChild(*node.children[1], own + 1, out);
      return;
    }
    case SyntaxKind::kIn:
      formatChild(*node.children[0], 5, out);
      out.append(node.negated ? " not in (" : " in (");
      for (size_t i = 1; i < node.children.size(); ++i) {
        if (i > 1) out.append(", ");
        format(*node.children[i], out);
      }
      out.push_back(')');
      return;
    case SyntaxKind::kIsNull:
      formatChild(*node.children[0], 5, out);
      out.append(node.negated ? " is not null" : " is null");
      return;
    case SyntaxKind::kCase: {
      out.append("case");
      size_t index = 0;
      if (node.hasOperand) {
        out.append(" ");
        format(*node.children[index++], out);
      }
      const size_t pairsEnd = node.children.size() - (node.hasElse ? 1 : 0);
      for (; index < pairsEnd; index += 2) {
        out.append(" when ");
        format(*node.children[index], out);
        out.append(" then ");
        format(*node.children[index + 1], out);
      }
      if (node.hasElse) {
        out.append(" else ");
        format(*node.children.back(), out);
      }
      out.append(" end");
      return;
    }
    case SyntaxKind::kCall:
      out.append(node.name).push_back('(');
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out.append(", ");
        format(*node.children[i], out);
      }
      out.push_back(')');
      return;
    case SyntaxKind::kCast:
      out.append("cast(");
      format(*node.children[0], out);
      out.append(" as ").append(dataTypeName(node.castType)).push_back(')');
      return;
  }
}

}  // namespace

Result<SyntaxNodePtr> parseExpression(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(text));
  return Parser(std::move(tokens)).parse();
}

std::string formatSyntax(const SyntaxNode& node) {
  std::string out;
  format(node, out);
  return out;
}

bool isPlainIdentifier(std::string_view name) {
  if (name.empty() || !isIdentifierStart(name[0])) return false;
  for (char c : name) {
    if (!isIdentifierPart(c)) return false;
  }
  return !isKeywordText(name);
}

}  // namespace sluice::expr
