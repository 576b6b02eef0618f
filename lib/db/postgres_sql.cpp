#include "db/postgres_sql.h"

#include <cctype>
#include <string>
#include <vector>

namespace quay::db {
namespace {

enum class Kind : unsigned char { kWord, kParam, kQuoted, kSpace, kPunct };

struct Token {
  Kind kind;
  std::string_view text;
};

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const char c = s[i];
    Kind kind;
    if (c == '\'' || c == '"') {
      // A literal or a quoted name; a doubled quote stays inside it.
      ++i;
      while (i < s.size()) {
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      kind = Kind::kQuoted;
    } else if (c == ':' && i + 1 < s.size() &&
               (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '_') &&
               (i == 0 || s[i - 1] != ':')) {
      ++i;
      while (i < s.size() && IsWordChar(s[i])) ++i;
      kind = Kind::kParam;
    } else if (c == '?') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      kind = Kind::kParam;
    } else if (IsWordChar(c)) {
      while (i < s.size() && IsWordChar(s[i])) ++i;
      kind = Kind::kWord;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      kind = Kind::kSpace;
    } else {
      ++i;
      kind = Kind::kPunct;
    }
    out.push_back({kind, s.substr(start, i - start)});
  }
  return out;
}

bool Is(const Token& t, std::string_view word) {
  if (t.kind != Kind::kWord || t.text.size() != word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(t.text[i])) !=
        std::toupper(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

bool IsPunct(const Token& t, char c) { return t.kind == Kind::kPunct && t.text[0] == c; }

class Translator {
 public:
  Translator(std::vector<Token> tokens, bool dialect) : t_(std::move(tokens)), dialect_(dialect) {}

  PostgresSql Run() {
    Emit(0, t_.size(), /*top=*/true);
    if (on_conflict_pending_) out_ += " ON CONFLICT DO NOTHING";
    names_.resize(static_cast<size_t>(max_param_));
    return {std::move(out_), max_param_, std::move(names_)};
  }

 private:
  // The next token at or after `i` that is not whitespace (t_.size() if none).
  size_t NextSolid(size_t i, size_t end) const {
    while (i < end && t_[i].kind == Kind::kSpace) ++i;
    return i;
  }
  // The ')' matching the '(' at `open`, and the top-level commas between.
  size_t Matching(size_t open, size_t end, int* commas) const {
    int depth = 0;
    *commas = 0;
    for (size_t i = open; i < end; ++i) {
      if (IsPunct(t_[i], '(')) ++depth;
      if (IsPunct(t_[i], ')') && --depth == 0) return i;
      if (depth == 1 && IsPunct(t_[i], ',')) ++*commas;
    }
    return end;
  }

  void Emit(size_t begin, size_t end, bool top) {
    int depth = 0;
    for (size_t i = begin; i < end; ++i) {
      const Token& tok = t_[i];
      if (tok.kind == Kind::kParam) {
        int n;
        if (tok.text[0] == ':') {
          n = 0;
          for (size_t k = 0; k < names_.size(); ++k) {
            if (names_[k] == tok.text) n = static_cast<int>(k) + 1;
          }
          if (n == 0) n = max_param_ + 1;
        } else {
          n = tok.text.size() > 1 ? std::stoi(std::string(tok.text.substr(1))) : max_param_ + 1;
        }
        if (n > max_param_) max_param_ = n;
        if (names_.size() < static_cast<size_t>(n)) names_.resize(static_cast<size_t>(n));
        if (tok.text[0] == ':') names_[static_cast<size_t>(n) - 1] = std::string(tok.text);
        out_ += '$';
        out_ += std::to_string(n);
        continue;
      }
      if (IsPunct(tok, '(')) ++depth;
      if (IsPunct(tok, ')')) --depth;
      if (!dialect_ || tok.kind != Kind::kWord) {
        out_ += tok.text;
        continue;
      }
      if (Is(tok, "INSERT")) {
        const size_t o = NextSolid(i + 1, end);
        if (o < end && Is(t_[o], "OR")) {
          const size_t ig = NextSolid(o + 1, end);
          if (ig < end && Is(t_[ig], "IGNORE")) {
            out_ += "INSERT";
            on_conflict_pending_ = true;
            i = ig;
            continue;
          }
        }
      } else if (top && depth == 0 && on_conflict_pending_ && Is(tok, "RETURNING")) {
        out_ += "ON CONFLICT DO NOTHING ";
        on_conflict_pending_ = false;
      } else if (Is(tok, "INDEXED")) {
        // SQLite's index hint; PostgreSQL's planner picks its own.
        const size_t by = NextSolid(i + 1, end);
        const size_t name = by < end ? NextSolid(by + 1, end) : end;
        if (by < end && Is(t_[by], "BY") && name < end) {
          i = name;
          continue;
        }
      } else if (Is(tok, "CROSS")) {
        // SQLite's CROSS JOIN ... ON is an ordering hint; PostgreSQL wants a
        // plain join for an ON clause.
        out_ += "INNER";
        continue;
      } else if (Is(tok, "IN")) {
        // SQLite's `x IN table` -> `x IN (SELECT * FROM table)`.
        const size_t n = NextSolid(i + 1, end);
        if (n < end && t_[n].kind == Kind::kWord && !Is(t_[n], "SELECT")) {
          out_ += "IN (SELECT * FROM ";
          out_ += t_[n].text;
          out_ += ')';
          i = n;
          continue;
        }
      } else if (Is(tok, "LIKE")) {
        out_ += "ILIKE";
        continue;
      } else if (Is(tok, "IS")) {
        size_t n = NextSolid(i + 1, end);
        const bool negated = n < end && Is(t_[n], "NOT");
        if (negated) n = NextSolid(n + 1, end);
        if (n < end && !Is(t_[n], "NULL") && !Is(t_[n], "TRUE") && !Is(t_[n], "FALSE")) {
          out_ += negated ? "IS DISTINCT FROM" : "IS NOT DISTINCT FROM";
          i = negated ? NextSolid(i + 1, end) : i;
          continue;
        }
      } else if (Is(tok, "MAX") || Is(tok, "MIN")) {
        const size_t open = NextSolid(i + 1, end);
        int commas = 0;
        if (open < end && IsPunct(t_[open], '(') && (Matching(open, end, &commas), commas > 0)) {
          out_ += Is(tok, "MAX") ? "GREATEST" : "LEAST";
          continue;
        }
      } else if (Is(tok, "instr")) {
        out_ += "strpos";
        continue;
      } else if (Is(tok, "IFNULL")) {
        out_ += "COALESCE";
        continue;
      } else if (Is(tok, "json_group_array")) {
        out_ += "json_agg";
        continue;
      } else if (Is(tok, "json_array")) {
        out_ += "json_build_array";
        continue;
      } else if (Is(tok, "substr")) {
        // SQLite's substr(s, from, n) with n < 0 is '' (a slash-less
        // name's namespace); PostgreSQL's is an error.
        const size_t open = NextSolid(i + 1, end);
        int commas = 0;
        if (open < end && IsPunct(t_[open], '(')) {
          const size_t close = Matching(open, end, &commas);
          if (commas == 2) {
            size_t last = close;
            int depth2 = 0, seen = 0;
            for (size_t k = open; k < close; ++k) {
              if (IsPunct(t_[k], '(')) ++depth2;
              if (IsPunct(t_[k], ')')) --depth2;
              if (depth2 == 1 && IsPunct(t_[k], ',') && ++seen == 2) last = k;
            }
            out_ += "substr(";
            Emit(open + 1, last, /*top=*/false);
            out_ += ", GREATEST(";
            Emit(last + 1, close, /*top=*/false);
            out_ += ", 0))";
            i = close;
            continue;
          }
        }
      } else if (Is(tok, "json_object")) {
        out_ += "json_build_object";
        continue;
      } else if (Is(tok, "INTEGER") && PreviousIsAs(begin, i)) {
        out_ += "BIGINT";
        continue;
      } else if (Is(tok, "json_extract")) {
        // json_extract(x, '$.a[0]') -> (CAST(x AS jsonb) #>> '{a,0}'): text,
        // where SQLite's is typed; callers CAST where they need a number.
        const size_t open = NextSolid(i + 1, end);
        int commas = 0;
        if (open < end && IsPunct(t_[open], '(')) {
          const size_t close = Matching(open, end, &commas);
          size_t comma = open + 1;
          for (int d = 0; comma < close; ++comma) {
            if (IsPunct(t_[comma], '(')) ++d;
            if (IsPunct(t_[comma], ')')) --d;
            if (d == 0 && IsPunct(t_[comma], ',')) break;
          }
          const size_t path = NextSolid(comma + 1, close);
          if (commas == 1 && path < close && t_[path].kind == Kind::kQuoted) {
            out_ += "(CAST(";
            Emit(open + 1, comma, /*top=*/false);
            out_ += " AS jsonb) #>> '{";
            const std::string_view p = t_[path].text.substr(1, t_[path].text.size() - 2);
            bool first = true;
            for (size_t k = 0; k < p.size(); ++k) {
              const char ch = p[k];
              if (ch == '$') continue;
              if (ch == '.' || ch == '[') {
                if (!first) out_ += ',';
                first = false;
                continue;
              }
              if (ch == ']') continue;
              out_ += ch;
            }
            out_ += "}')";
            i = close;
            continue;
          }
        }
      } else if (Is(tok, "json_each")) {
        const size_t open = NextSolid(i + 1, end);
        int commas = 0;
        if (open < end && IsPunct(t_[open], '(')) {
          const size_t close = Matching(open, end, &commas);
          out_ += "json_array_elements_text(CAST(";
          Emit(open + 1, close, /*top=*/false);
          out_ += " AS json)) AS ";
          // An alias after the call names the table; its one column stays
          // "value", as SQLite's json_each calls it.
          size_t a = NextSolid(close + 1, end);
          if (a < end && Is(t_[a], "AS")) a = NextSolid(a + 1, end);
          if (a < end && t_[a].kind == Kind::kWord && !IsKeyword(t_[a])) {
            out_ += t_[a].text;
            i = a;
          } else {
            out_ += "je";
            i = close;
          }
          out_ += "(value)";
          continue;
        }
      }
      out_ += tok.text;
    }
  }

  bool PreviousIsAs(size_t begin, size_t i) const {
    while (i > begin) {
      --i;
      if (t_[i].kind == Kind::kSpace) continue;
      return Is(t_[i], "AS");
    }
    return false;
  }

  static bool IsKeyword(const Token& t) {
    for (const char* k :
         {"WHERE", "JOIN", "LEFT", "INNER", "CROSS", "ON", "GROUP", "ORDER", "LIMIT", "UNION",
          "AND", "OR", "EXCEPT", "INTERSECT", "HAVING", "USING"}) {
      if (Is(t, k)) return true;
    }
    return false;
  }

  std::vector<Token> t_;
  bool dialect_;
  std::string out_;
  int max_param_ = 0;
  std::vector<std::string> names_;
  bool on_conflict_pending_ = false;
};

}  // namespace

PostgresSql TranslateForPostgres(std::string_view sqlite) {
  std::string text(sqlite);
  // PostgreSQL has no randomblob(); 32 hex digits from its UUID generator.
  static constexpr std::string_view kRandomHex = "lower(hex(randomblob(16)))";
  for (size_t at; (at = text.find(kRandomHex)) != std::string::npos;) {
    text.replace(at, kRandomHex.size(), "replace(CAST(gen_random_uuid() AS text), '-', '')");
  }
  return Translator(Tokenize(text), /*dialect=*/true).Run();
}

PostgresSql NumberParameters(std::string_view sql) {
  return Translator(Tokenize(sql), /*dialect=*/false).Run();
}

}  // namespace quay::db
