/* qp_int.h: what the files of the query parser share and nobody else sees:
 * the field table's types, the node builder, the token and the parser's
 * state, and the few functions that cross files (qp__ names).  The module
 * is qp.c (names, builders, dates, parser, entry points), qp_lex.c (the
 * lexer) and qp_explain.c (EXPLAIN); qp.h is its public face.
 */
#ifndef SIFT_QP_INT_H
#define SIFT_QP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "num.h"
#include "qp.h"
#include "schema.h"

#define QP_KEY_MAX SCHEMA_MAX_KEY
#define QP_SHOW_MAX 40 /* bytes of the user's text quoted in a message */

/* printf arguments for "'%.*s%s'": the text, cut to QP_SHOW_MAX bytes. */
#define QP_SHOW(s, n) \
  (int)((n) > QP_SHOW_MAX ? QP_SHOW_MAX : (n)), (s), ((n) > QP_SHOW_MAX ? "..." : "")

/* The names a NAME:VALUE token may start with (qp.c's qp_fdefs[]). */
typedef enum qp_fkind { QP_FK_TEXT, QP_FK_FILTER, QP_FK_DATE, QP_FK_OPTION } qp_fkind_t;
typedef enum qp_opt {
  QP_OPT_LIMIT,
  QP_OPT_OFFSET,
  QP_OPT_SORT,
  QP_OPT_FACETS,
  QP_OPT_EXACT,
  QP_OPT_SINCE, /* the news options (qp_news_option) */
  QP_OPT_NOW,
  QP_OPT_HALFLIFE,
  QP_OPT_AFTER,
  QP_OPT_BY,
  QP_OPT_LIKE,
  QP_OPT_COLLAPSE,
  QP_OPT_MATCH,
  QP_OPT_RELAX
} qp_opt_t;

typedef struct qp_fdef {
  const char *name;
  qp_fkind_t kind;
  int id; /* qp_field_t for text and filters, qp_opt_t for options */
} qp_fdef_t;

/* Node allocation: every node of one query comes from one builder. */
typedef struct qp_build {
  arena_t *a;
  err_t *err;   /* may be NULL */
  size_t nodes; /* allocated so far */
  size_t max;   /* QP_MAX_NODES when parsing, SIZE_MAX for the JSON form */
} qp_build_t;

typedef enum qp_tkind {
  QT_END,
  QT_LPAREN,
  QT_RPAREN,
  QT_OR,
  QT_AND,
  QT_NOT,
  QT_NEAR,   /* NEAR or NEAR/N: distance */
  QT_NEG,    /* '-' glued to a term */
  QT_PHRASE, /* "..." : s/n inside the quotes */
  QT_TEXT,   /* a bare token with a word or a trailing '*' */
  QT_FIELD   /* NAME:VALUE : def, and s/n the value; or NAME:( with group
                set and the '(' left for the next token */
} qp_tkind_t;

typedef struct qp_tok {
  qp_tkind_t kind;
  size_t at; /* byte offset of the token */
  const char *s;
  size_t n;
  size_t s_at; /* byte offset of s */
  int quoted;
  int group;         /* QT_FIELD: title:( */
  uint32_t distance; /* QT_NEAR */
  const qp_fdef_t *def;
} qp_tok_t;

typedef struct qp_parser {
  const char *q;
  size_t len, pos;
  int glued; /* the token being lexed follows a QT_NEG */
  int have;  /* la holds the next token */
  qp_tok_t la;
  qp_build_t b;
  qp_query_t *query;
  qp_field_t field; /* where text matches: QF_TITLE inside title:( ) */
  unsigned opts;    /* a bit per option given */
  int op_written;   /* an AND, or a NOT or '-' of text, was written (the
                       tree keeps neither `a AND b` nor `NOT NOT a`) */
  uint32_t since_n; /* since:N<unit>, resolved against now at the end */
  char since_unit;
  size_t since_at;
  uint32_t halflife_n; /* halflife:N<m|y>, resolved against now at the end */
  char halflife_unit;  /* 0 when halflife: is days (d, w) or not given */
  size_t halflife_at;
} qp_parser_t;

/* 1-based column of byte offset off, as error messages give it. */
int qp__col(size_t off);
/* Record an error and return code (whatever err held before). */
int qp__fail(err_t *err, int code, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int qp__nomem(err_t *err);
/* The field or option called s[0..n) (any case), or NULL. */
const qp_fdef_t *qp__field_def(const char *s, size_t n);
/* A filter's or text field's name as EXPLAIN writes it. */
const char *qp__filter_name(qp_field_t f);

/* A syntax error at byte offset at (lexer and parser). */
int qp__bad(qp_parser_t *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The next token, lexed on first look and kept until the parser clears
 * p->have (one token of lookahead). */
int qp__peek(qp_parser_t *p, qp_tok_t **t);

/* Digits only, value <= max (num.h's rules). */
static inline int qp__uint(const char *s, size_t n, uint32_t max, uint32_t *v) {
  uint64_t x;
  if (num_parse(s, n, 0, max, &x)) return -1;
  *v = (uint32_t)x;
  return 0;
}

#endif
