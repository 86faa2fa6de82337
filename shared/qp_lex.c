/* qp_lex.c: the query parser's lexer (see qp.c for the module, qp_int.h for
 * the token).  qp__peek() cuts the next token of the query with one token
 * of lookahead; the parser consumes it by clearing p->have.  It also owns
 * the checks that reject other engines' syntax at its column.
 *
 * Lexical rules (the parts SPEC.md leaves to us):
 *  - Tokens are delimited by white space (ASCII, and the Unicode spaces
 *    U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
 *    U+3000), parentheses and the ASCII double quote.  `a(b)` is `a (b)`.
 *  - OR, AND and NOT are operators only as whole upper-case tokens.
 *  - '-' at the start of a token negates when it is directly followed by
 *    '(', '"' or a token that is a term (has a word, ends in '*', or is
 *    field:value); `--a` is NOT NOT a, which is a.  A '-' followed by space,
 *    or by a token without words, is punctuation.  A token right after such
 *    a '-' is never an operator: `-OR` excludes the word "or".
 *  - A token the tokenizer finds no word in (`&`, `--`, `...`) is skipped
 *    like white space.
 *  - A token ending in '*' is a prefix; what precedes the '*' must be
 *    exactly one word.
 *  - Syntax of other engines is an error naming its column, never a
 *    different query (qp_check_bare, qp_lex_quoted; docs/query-syntax.md
 *    has the table with the reasons).  In a bare token or a title:/filter
 *    value: a '*' anywhere but after the last letter or digit (`*aza`,
 *    `ha*as`); '^' next to a letter or digit (`gaza^2`); '~' after one
 *    (`gaza~`, `gaza~2`); '?' between two (`te?t`); `&&` and `||`; a token
 *    starting with '+' or '!' before a letter, '(' or '"' (`+gaza`,
 *    `!gaza`); `<<`; '[' or '{'
 *    opening a group holding the word TO (`[a TO b]`).  After a closing
 *    quote: '~', '^', or '/' and a digit (`"a b"~5`, `"a b"/2`).  Inside a
 *    phrase: '*' after a letter or digit (`"hospit*"`).  What stays text,
 *    because people write it: an apostrophe or hyphen inside a word, `C++`,
 *    `AT&T`, `9/11`, `/boat-tail/` (Cranfield quotes so; not a regular
 *    expression), `$5`, `#tag`, `@name`, `+972`, `~5`, `Yahoo!`, `why?`,
 *    a lone `|`, `&`, `[`, emoji (skipped: no word in them).
 *  - NEAR and NEAR/N (N 1..QP_MAX_NEAR, digits only) are operators as whole
 *    upper-case tokens, like OR; `NEAR/x`, `NEAR/0` are errors.
 *  - title:( starts a group whose text is matched in titles; a filter, date
 *    or option followed by '(' is an error (one value each).
 *  - NAME:VALUE, with NAME the ASCII letters before the first ':' of a token
 *    (case-insensitive), is a field or an option when NAME is one of
 *    qp_fdefs[]; with any other NAME the token is text (`Mission:`,
 *    `Requests:`, a pasted `http://x.com`, which is the phrase "http x com"),
 *    since people type and paste such text and mean it.  `10:30` is not a
 *    field since it starts with a digit.  VALUE is the rest of the token, or
 *    a quoted string right after the ':'.  An empty VALUE is an error.
 *  - Options are allowed anywhere outside parentheses and not negated; they
 *    are taken out of the tree, so `gaza OR rafah limit:5` is `gaza OR rafah`
 *    with a limit of 5.  An operator whose side holds only options has
 *    nothing to apply to: `a OR limit:5` is an error.
 *  - Filter keys are tok_key() of the value, at most QP_KEY_MAX bytes (the
 *    indexer must cut keys at the same length).  Option values and facet
 *    names are case-insensitive.  limit 0..QP_MAX_LIMIT; offset any 32-bit
 *    number (the engine applies its own cap); facet limits
 *    1..QP_MAX_FACET_LIMIT or "all"; exact and relax take yes/no/true/false,
 *    match any/all; a facet named twice is an error.
 *  - Dates: YYYY, YYYY-MM or YYYY-MM-DD, year 0001-9999, a real calendar
 *    day (proleptic Gregorian).
 */
#include "qp_int.h"

#include "tok.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Lexer
 */


/* Bytes of the white-space character at q[i], or 0. */
static size_t qp_space(const qp_parser_t *p, size_t i) {
  const unsigned char *s = (const unsigned char *)p->q + i;
  size_t n = p->len - i;
  switch (s[0]) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
      return 1;
    case 0xC2:
      return n >= 2 && (s[1] == 0xA0 || s[1] == 0x85) ? 2 : 0;
    case 0xE1:
      return n >= 3 && s[1] == 0x9A && s[2] == 0x80 ? 3 : 0;
    case 0xE2:
      if (n < 3) return 0;
      if (s[1] == 0x80 &&
          ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;
      return s[1] == 0x81 && s[2] == 0x9F ? 3 : 0;
    case 0xE3:
      return n >= 3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
    default:
      return 0;
  }
}

static int qp_delim(const qp_parser_t *p, size_t i) {
  char c = p->q[i];
  return c == '(' || c == ')' || c == '"' || qp_space(p, i);
}

static size_t qp_token_end(const qp_parser_t *p, size_t i) {
  while (i < p->len && !qp_delim(p, i)) i++;
  return i;
}

/* Length of NAME in a NAME:VALUE token s[0..n), or 0. */
static size_t qp_field_name(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) i++;
  return i > 0 && i < n && s[i] == ':' ? i : 0;
}

static int qp_has_word(const char *s, size_t n) {
  tok_iter_t it;
  tok_word_t w;
  tok_iter_init(&it, s, n);
  return tok_next(&it, &w);
}

/* Is the bare token s[0..n) a term (not punctuation to skip)? */
static int qp_termlike(const char *s, size_t n) {
  return n > 0 && (s[n - 1] == '*' || qp_field_name(s, n) || qp_has_word(s, n));
}

/* Does the '-' at q[i] negate what follows? */
static int qp_neg_here(const qp_parser_t *p, size_t i) {
  size_t k = i + 1;
  while (k < p->len && p->q[k] == '-') k++;
  if (k >= p->len) return 0;
  if (p->q[k] == '(' || p->q[k] == '"') return 1;
  return qp_termlike(p->q + k, qp_token_end(p, k) - k);
}

/* A syntax error at byte offset at (lexer and parser). */
int qp__bad(qp_parser_t *p, size_t at, const char *fmt, ...) {
  char msg[sizeof p->b.err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return qp__fail(p->b.err, ERR_BAD_QUERY, qp__col(at), "%s", msg);
}

/* A byte of a word as far as the syntax checks go: an ASCII letter or
 * digit, or any byte of a multi-byte UTF-8 character. */
static int qp_wordbyte(int c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

/* Does the '[' or '{' at q[at] open a range: the word TO, between spaces,
 * before the closing bracket? */
static int qp_range_here(const qp_parser_t *p, size_t at) {
  for (size_t i = at + 1; i + 2 < p->len && p->q[i] != ']' && p->q[i] != '}'; i++)
    if (p->q[i] == ' ' && p->q[i + 1] == 'T' && p->q[i + 2] == 'O' &&
        (i + 3 == p->len || p->q[i + 3] == ' '))
      return 1;
  return 0;
}

/* Syntax of other engines in the bare token (or unquoted value) q[at..at+n)
 * (the lexical rules above): an error naming its column, else 0. */
static int qp_check_bare(qp_parser_t *p, size_t at, size_t n) {
  const unsigned char *s = (const unsigned char *)p->q + at;
  int after = at + n < p->len ? (unsigned char)p->q[at + n] : 0; /* its delimiter */
  for (size_t i = 0; i < n; i++) {
    int prev = i ? s[i - 1] : 0, next = i + 1 < n ? s[i + 1] : after;
    int inner = i + 1 < n, lead = i == 0, col = qp__col(at + i);
    int opens = (qp_wordbyte(next) && !(next >= '0' && next <= '9')) || next == '(' || next == '"';
    switch (s[i]) {
      case '*':
        if (!inner && !lead && qp_wordbyte(prev)) break; /* hospit* */
        if (lead || !qp_wordbyte(prev))
          return qp__bad(p, at + i,
                         "leading wildcard at column %d is not supported: '*' only ends a "
                         "word (hospit*)",
                         col);
        return qp__bad(p, at + i,
                       "'*' inside a word at column %d is not supported: '*' only ends a "
                       "word (hospit*)",
                       col);
      case '^':
        if (qp_wordbyte(prev) || qp_wordbyte(next))
          return qp__bad(p, at + i, "boost '^' at column %d is not supported", col);
        break;
      case '~':
        if (qp_wordbyte(prev))
          return qp__bad(p, at + i,
                         "fuzzy search '~' at column %d is not supported (for words near "
                         "each other: a NEAR/N b)",
                         col);
        break;
      case '?':
        if (inner && qp_wordbyte(prev) && qp_wordbyte(next))
          return qp__bad(p, at + i,
                         "'?' inside a word at column %d (a one-letter wildcard) is not "
                         "supported",
                         col);
        break;
      case '&':
      case '|':
        if (inner && next == s[i])
          return qp__bad(p, at + i, "'%c%c' at column %d is not supported: write %s", s[i], s[i],
                         col, s[i] == '&' ? "AND" : "OR");
        break;
      case '+':
      case '!':
        if (lead && opens)
          return qp__bad(
              p, at + i, "'%c' at column %d is not supported: %s", s[i], col,
              s[i] == '+' ? "every word must match already (drop the '+')" : "write NOT or -");
        break;
      case '<':
        if (inner && next == '<')
          return qp__bad(p, at + i, "'<<' (word order) at column %d is not supported", col);
        break;
      case '[':
      case '{':
        if (lead && qp_range_here(p, at))
          return qp__bad(p, at,
                         "range '%c... TO ...' at column %d is not supported (dates: "
                         "date:A..B)",
                         s[i], col);
        break;
      default:
        break;
    }
  }
  return 0;
}

/* The quoted string whose '"' is at q[i]; text: it is a phrase or a title
 * or filter value, where a '*' after a letter or digit is an error. */
static int qp_lex_quoted(qp_parser_t *p, size_t i, int text, qp_tok_t *t) {
  const char *close = memchr(p->q + i + 1, '"', p->len - i - 1);
  if (!close) return qp__bad(p, i, "unbalanced '\"' at column %d", qp__col(i));
  t->s = p->q + i + 1;
  t->n = (size_t)(close - t->s);
  t->s_at = i + 1;
  t->quoted = 1;
  p->pos = (size_t)(close - p->q) + 1;
  for (size_t k = 1; text && k < t->n; k++)
    if (t->s[k] == '*' && qp_wordbyte((unsigned char)t->s[k - 1]))
      return qp__bad(p, t->s_at + k,
                     "'*' inside a phrase at column %d is not supported: a phrase matches "
                     "whole words (write the prefix outside quotes)",
                     qp__col(t->s_at + k));
  char c = p->pos < p->len ? p->q[p->pos] : 0;
  char d = p->pos + 1 < p->len ? p->q[p->pos + 1] : 0;
  if (c == '~' || c == '^' || (c == '/' && d >= '0' && d <= '9'))
    return qp__bad(p, p->pos, "'%c' after a phrase at column %d is not supported%s", c,
                   qp__col(p->pos),
                   c == '~'   ? " (for words near each other: a NEAR/N b)"
                   : c == '^' ? " (boost)"
                              : " (quorum)");
  return 0;
}

static int qp_lex_field(qp_parser_t *p, const qp_fdef_t *def, size_t name_len, size_t end,
                        qp_tok_t *t) {
  size_t v = p->pos + name_len + 1;
  int text = def->kind == QP_FK_TEXT || def->kind == QP_FK_FILTER, rc;
  t->kind = QT_FIELD;
  t->def = def;
  if (v < p->len && p->q[v] == '(') {
    if (def->kind != QP_FK_TEXT)
      return qp__bad(p, v, "%s: takes one value, not a group, at column %d%s", def->name,
                     qp__col(v), def->kind == QP_FK_FILTER ? " (write outlet:a OR outlet:b)" : "");
    t->group = 1; /* the '(' is the next token */
    t->s = p->q + v;
    t->s_at = v;
    p->pos = v;
    return 0;
  }
  if (v < p->len && p->q[v] == '"') {
    if ((rc = qp_lex_quoted(p, v, text, t))) return rc;
  } else {
    t->s = p->q + v;
    t->n = end - v;
    t->s_at = v;
    p->pos = end;
    if (text && (rc = qp_check_bare(p, v, t->n))) return rc;
  }
  if (t->n == 0) return qp__bad(p, v, "%s: needs a value at column %d", def->name, qp__col(v));
  return 0;
}

/* NEAR or NEAR/N, the token s[0..n). */
static int qp_lex_near(qp_parser_t *p, const char *s, size_t n, qp_tok_t *t) {
  t->kind = QT_NEAR;
  t->distance = QP_NEAR_DEFAULT;
  if (n > 4 && (qp__uint(s + 5, n - 5, QP_MAX_NEAR, &t->distance) || t->distance == 0))
    return qp__bad(p, t->at, "bad NEAR distance '%.*s%s' at column %d: expected NEAR/N, N 1-%d",
                   QP_SHOW(s, n), qp__col(t->at), QP_MAX_NEAR);
  p->pos += n;
  return 0;
}

static int qp_lex(qp_parser_t *p, qp_tok_t *t) {
  int glued = p->glued;
  p->glued = 0;
  for (;;) {
    size_t sp;
    while (p->pos < p->len && (sp = qp_space(p, p->pos))) p->pos += sp;
    memset(t, 0, sizeof *t);
    t->at = p->pos;
    if (p->pos >= p->len) {
      t->kind = QT_END;
      return 0;
    }
    char c = p->q[p->pos];
    if (c == '(' || c == ')') {
      t->kind = c == '(' ? QT_LPAREN : QT_RPAREN;
      p->pos++;
      return 0;
    }
    if (c == '"') {
      t->kind = QT_PHRASE;
      return qp_lex_quoted(p, p->pos, 1, t);
    }
    if (c == '-' && qp_neg_here(p, p->pos)) {
      t->kind = QT_NEG;
      p->pos++;
      p->glued = 1;
      return 0;
    }
    size_t end = qp_token_end(p, p->pos);
    const char *s = p->q + p->pos;
    size_t n = end - p->pos;
    size_t name = qp_field_name(s, n);
    const qp_fdef_t *def = name ? qp__field_def(s, name) : NULL;
    if (def) return qp_lex_field(p, def, name, end, t);
    int rc = qp_check_bare(p, p->pos, n);
    if (rc) return rc;
    if (!glued && n >= 4 && !memcmp(s, "NEAR", 4) && (n == 4 || s[4] == '/'))
      return qp_lex_near(p, s, n, t);
    if (!glued) {
      t->kind = n == 2 && !memcmp(s, "OR", 2)    ? QT_OR
                : n == 3 && !memcmp(s, "AND", 3) ? QT_AND
                : n == 3 && !memcmp(s, "NOT", 3) ? QT_NOT
                                                 : QT_END;
      if (t->kind != QT_END) {
        p->pos = end;
        return 0;
      }
    }
    p->pos = end;
    if (qp_termlike(s, n)) {
      t->kind = QT_TEXT;
      t->s = s;
      t->n = n;
      t->s_at = t->at;
      return 0;
    }
    glued = 0; /* no word in it: skipped like white space */
  }
}

int qp__peek(qp_parser_t *p, qp_tok_t **t) {
  if (!p->have) {
    int rc = qp_lex(p, &p->la);
    if (rc) return rc;
    p->have = 1;
  }
  *t = &p->la;
  return 0;
}
