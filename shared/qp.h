/* qp.h: the query language of SPEC.md, parsed into a tree.
 *
 * Grammar (precedence low to high: OR, AND, NOT):
 *   query   := orexpr?
 *   orexpr  := andexpr ( "OR" andexpr )*
 *   andexpr := near ( "AND"? near )*            implicit AND by adjacency
 *   near    := unary ( NEAR unary )*            NEAR is "NEAR" or "NEAR/N"
 *   unary   := ( "NOT" | "-" ) unary | primary  "-" only when glued: -word
 *   primary := "(" orexpr ")" | "title:(" orexpr ")"
 *            | [field ":"] ( WORD | WORD "*" | PHRASE )
 *            | filter ":" ( value | value "*" ) | option ":" value
 * Operators are the upper-case words OR, AND, NOT, NEAR (lower-case ones are
 * plain words).  `a b OR c` is `(a AND b) OR c`; `a b NEAR c` is
 * `a AND (b NEAR c)`.
 *
 * Text:
 *   word      every word must match, stemmed (QN_WORD, one normalized word).
 *             An unquoted token that the tokenizer splits into several words
 *             (`al-qassam`, `1,000`, `U.S.`) becomes the phrase of those words.
 *             Hyphenated words in a phrase (tok.h) are listed as runs with
 *             their closed forms, which eng.h matches too.
 *   "a b"     phrase (QN_PHRASE): consecutive, in order, not stemmed.  An
 *             empty phrase or one with no words is an error.
 *   hospit*   prefix (QN_PREFIX): words beginning with the normalized prefix.
 *   title:X   X (word, phrase or prefix) matched in the title only.
 *   title:(...)  every word, phrase and prefix of the group in the title only
 *             (nested groups, NOT and OR included; filters stay filters).
 *   a NEAR b, a NEAR/N b   (QN_NEAR, distance N, default QP_NEAR_DEFAULT):
 *             every operand at most N word positions from every other, any
 *             order (`a NEAR/1 b`: adjacent, either order).  Operands are
 *             words, matched unstemmed as phrase words are, or prefixes
 *             (title: allowed); a phrase or anything else is an error.  A
 *             chain `a NEAR b NEAR c` is one node; its distances must agree.
 * Filters (QN_FILTER): outlet:, author:, tag:, lang: with a bare or quoted
 *   value, compared by tok_key() (case, accents, punctuation ignored).
 *   A bare value ending in '*' (outlet:fox*, not lang:) is a prefix of the
 *   key (`prefix` set): every name whose key starts with it.
 *   Several positive filters on the same field within one AND list mean any
 *   of them: the parser groups them into one QN_OR.
 * Dates (QN_DATE): date:V with V a day, month or year, or a range A..B with
 *   either end open; each end a day/month/year; lo/hi are inclusive
 *   YYYYMMDD (a month end is YYYYMM31, a year end YYYY1231, open = 0).
 *   A date that is not a real day, or lo > hi, is an error.
 * Options (global, anywhere at the top level, each at most once):
 *   limit:N (0..QP_MAX_LIMIT), offset:N, sort:relevance|newest|oldest,
 *   facets:NAME[:N],... with NAME in outlet year month day author tag and
 *   N the number of values (default 10, "all" for every value),
 *   exact:yes|no (totals exact, the default, or estimated),
 *   match:any|all (any of the top level's text conditions instead of all,
 *   see eng.h), relax:yes|no (whether eng_search may relax a query of
 *   plain words, `plain`; default yes).
 * News options (qp_news_t):
 *   since:N{d,w,m,y}  dated from `now` minus N days, weeks, calendar months
 *             or years (day clamped to the month's end) to `now`, both
 *             included: a DATE node (value "since:7d") ANDed to the root.
 *   now:YYYY-MM-DD    the day since: and sort:recent count from (default
 *             today, UTC).  sort:recent with halflife:N{d,w,m,y} (default
 *             14d; months and years are the days back to now minus them, as
 *             since: counts, so an article dated there weighs half):
 *             score * 2^(-age/halflife), age = now - day in days, 0 for
 *             articles dated after now; undated articles weigh 0.
 *   after:CURSOR      the page after the answer that gave "next":CURSOR.
 *   by:day|week|month|year   TIMELINE's period.
 *   collapse:copies   one hit per copy group (dup.h, eng.h).
 *   like:ID   ranked by article ID's distinctive words (eng.h); the rest of
 *             the query only filters.  Counts as text (relevance order).
 * Errors: ERR_BAD_QUERY with err->column the 1-based byte column of the
 * fault and a message naming it: unbalanced quote or parenthesis, bad date, bad number, an operator with nothing to apply
 * to, an option inside parentheses or negated, and syntax of other engines
 * that Sift does not support (a leading or inner '*', '*' in a phrase, '^'
 * boosts, '~' fuzzy and proximity, '?' inside a word, &&, ||, a leading '+'
 * or '!', [a TO b] ranges, <<, "a b"/N): qp.c's lexical rules and
 * docs/query-syntax.md list what is an error and what stays text.
 *
 * Ownership: the tree and its strings live in the arena given to qp_parse.
 */
#ifndef SIFT_QP_H
#define SIFT_QP_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

#define QP_MAX_LIMIT 1000
#define QP_MAX_DEPTH 64   /* nesting of parentheses/NOT */
#define QP_MAX_NODES 1024 /* leaves+operators in one query */
#define QP_DEFAULT_LIMIT 10
#define QP_DEFAULT_FACET_LIMIT 10
#define QP_NEAR_DEFAULT 10 /* a NEAR b: within 10 words */
#define QP_MAX_NEAR 1000   /* largest N of NEAR/N */

typedef enum qp_kind {
  QN_AND,    /* all kids; kids of kind QN_NOT are exclusions */
  QN_OR,     /* any kid */
  QN_NOT,    /* kids[0] excluded (only meaningful inside an AND, or alone:
                everything except) */
  QN_WORD,   /* words[0], stemmed match */
  QN_PHRASE, /* words[0..nwords), consecutive */
  QN_PREFIX, /* words[0] is the prefix */
  QN_FILTER, /* field + key */
  QN_DATE,   /* lo..hi */
  QN_NEAR    /* kids (WORD or PREFIX, two or more) within distance words */
} qp_kind_t;

typedef enum qp_field {
  QF_TEXT,  /* title or body */
  QF_TITLE, /* title only */
  QF_OUTLET,
  QF_AUTHOR,
  QF_TAG,
  QF_LANG
} qp_field_t;

typedef enum qp_sort {
  QP_SORT_DEFAULT,
  QP_SORT_RELEVANCE,
  QP_SORT_NEWEST,
  QP_SORT_OLDEST,
  QP_SORT_RECENT /* relevance decayed by age (news.halflife) */
} qp_sort_t;

/* TIMELINE periods (by:). */
typedef enum qp_by { QP_BY_AUTO, QP_BY_DAY, QP_BY_WEEK, QP_BY_MONTH, QP_BY_YEAR } qp_by_t;

#define QP_DEFAULT_HALFLIFE 14 /* days */

/* The options of news work, in one place (qp.c's qp_news_option parses
 * them).  since: is not kept here: it becomes a DATE node of the tree. */
typedef struct qp_news {
  uint32_t now;      /* YYYYMMDD that since: and sort:recent count from:
                         now: as given, else today (UTC) at parse time */
  int has_now;       /* now: was given */
  const char *since; /* since: as written ("7d"), for EXPLAIN; NULL */
  uint32_t halflife; /* days; QP_DEFAULT_HALFLIFE unless halflife: */
  const char *after; /* after:CURSOR as written, NULL; eng.h reads it */
  int after_column;  /* its column, for errors about the cursor */
  qp_by_t by;        /* TIMELINE period */
  const char *like;  /* like:ID, NULL: articles about the same story */
  int like_column;
  int collapse; /* collapse:copies: one hit per group of copies */
} qp_news_t;

typedef enum qp_facet {
  QP_FACET_OUTLET,
  QP_FACET_YEAR,
  QP_FACET_MONTH,
  QP_FACET_DAY,
  QP_FACET_AUTHOR,
  QP_FACET_TAG,
  QP_FACET__COUNT
} qp_facet_t;

/* A hyphenated run of a phrase's words (tok.h): words[first..first+n)
 * joined into the closed form norm, written raw in the query. */
typedef struct qp_run {
  size_t first, n;
  const char *norm, *raw;
} qp_run_t;

typedef struct qp_node {
  qp_kind_t kind;
  int column; /* 1-based byte column where the node starts in the query */
  qp_field_t field;
  const char **words; /* normalized words (WORD 1, PHRASE n>=1, PREFIX 1) */
  const char **raws;  /* WORD, PHRASE: each word as written (stemming reads
                         its accents, tok_stem_word); NULL for PREFIX */
  size_t nwords;
  const qp_run_t **runs; /* PHRASE: its hyphenated runs with a closed form */
  size_t nruns;
  int quoted;        /* PHRASE: written in quotes (else one token, `al-qassam`) */
  const char *value; /* FILTER: the value as written; DATE: the text */
  const char *key;   /* FILTER: tok_key(value) (without the '*' of a prefix) */
  int prefix;        /* FILTER: key is a prefix of the names matched */
  uint32_t distance; /* NEAR: 1..QP_MAX_NEAR */
  uint32_t lo, hi;   /* DATE: inclusive YYYYMMDD bounds, 0 = open */
  struct qp_node **kids;
  size_t nkids;
} qp_node_t;

typedef struct qp_facet_req {
  qp_facet_t facet;
  uint32_t limit; /* values to return; UINT32_MAX = all */
} qp_facet_req_t;

typedef struct qp_query {
  qp_node_t *root; /* NULL: no conditions (every article) */
  uint32_t limit, offset;
  int has_limit, has_offset; /* given explicitly */
  qp_sort_t sort;
  int exact;     /* 1 (default): exact totals */
  int match_any; /* match:any */
  int relax;     /* 1 (default): relax:yes */
  qp_facet_req_t facets[QP_FACET__COUNT];
  size_t nfacets; /* in the order asked */
  int has_text;   /* some positive text condition (word, phrase,
                            prefix): relevance is the default order */
  int plain;      /* the text is plain words, filters aside, with no
                     operator (AND, OR, NOT, '-', NEAR): a SEARCH of it may
                     be relaxed (eng.h) */
  qp_news_t news;
} qp_query_t;

/* Parse q[0..len).  0 and *out (in arena a), or ERR_BAD_QUERY / ERR_NOMEM
 * with err filled. */
int qp_parse(const char *q, size_t len, arena_t *a, qp_query_t **out, err_t *err);
/* A query with no conditions and default options (for JSON requests). */
qp_query_t *qp_query_new(arena_t *a);
/* 1 when q's answer depends on the day it is computed: since: or
 * sort:recent counted from today, no now: given (a cache must not keep it
 * past that day). */
int qp_uses_today(const qp_query_t *q);
/* Conjoin an extra condition to the root (JSON request fields). */
int qp_add_condition(qp_query_t *q, qp_node_t *cond, arena_t *a);
/* Apply the option name ("since", "now", "by", ...) with value[0..len) as
 * `name:value` at the top level would (the JSON request form's option
 * fields); give now before since.  0, or ERR_BAD_QUERY with err->column in
 * the value (or ERR_INVAL when name is no option). */
int qp_set_option(qp_query_t *q, const char *name, const char *value, size_t len, arena_t *a,
                  err_t *err);
/* Build filter / date nodes (the JSON request form uses these). */
qp_node_t *qp_filter_node(arena_t *a, qp_field_t field, const char *value, size_t len);
/* from/to as written ("2023-11", "2023-11-02", "2023"); either may be NULL. */
int qp_date_node(arena_t *a, const char *from, const char *to, qp_node_t **out, err_t *err);
/* Facet name -> id, or -1. */
int qp_facet_id(const char *name, size_t len);
const char *qp_facet_name(qp_facet_t f);
const char *qp_sort_name(qp_sort_t s);
const char *qp_by_name(qp_by_t b);
/* How the query was understood, as JSON (the "parsed" of EXPLAIN). */
void qp_explain(const qp_query_t *q, buf_t *out);

#endif
