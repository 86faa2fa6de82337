/* err.c: names and messages of the error list in err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

#define ERR__ROW(name, proto, msg) {"ERR_" #name, ERR_P_##proto, msg},
static const struct {
  const char *name;
  err_proto_t proto;
  const char *msg;
} err_rows[ERR__COUNT] = {ERR_MAP(ERR__ROW)};
#undef ERR__ROW

#define ERR__PROTO_NAME(name, str) str,
static const char *const err_proto_names[ERR_P__COUNT] = {ERR_PROTO_MAP(ERR__PROTO_NAME)};
#undef ERR__PROTO_NAME

static int err_row(int code) {
  int i = -1 - code;
  return (code < 0 && i < ERR__COUNT) ? i : -1;
}

const char *err_name(int code) {
  int i = err_row(code);
  return code == 0 ? "ERR_OK" : i < 0 ? "ERR_UNKNOWN" : err_rows[i].name;
}

const char *err_str(int code) {
  int i = err_row(code);
  return code == 0 ? "success" : i < 0 ? "unknown error" : err_rows[i].msg;
}

err_proto_t err_proto(int code) {
  int i = err_row(code);
  return i < 0 ? ERR_P_INTERNAL : err_rows[i].proto;
}

const char *err_proto_name(err_proto_t p) {
  return (unsigned)p < ERR_P__COUNT ? err_proto_names[p] : "internal";
}

const char *err_proto_code(int code) { return err_proto_names[err_proto(code)]; }

int err_set(err_t *e, int code, int column, const char *fmt, ...) {
  if (!e) return code;
  if (e->code) return e->code;
  e->code = code;
  e->column = column;
  e->msg[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void err_clear(err_t *e) {
  if (!e) return;
  e->code = 0;
  e->column = 0;
  e->msg[0] = '\0';
}

const char *err_message(const err_t *e) { return e->msg[0] ? e->msg : err_str(e->code); }
