/* fuzz_proto.c: request lines (text and JSON forms) through proto_handle,
 * and through the AUTH gate of a daemon with a secret.
 *
 * The input is split at '\n' into request lines.  No index is open, so the
 * fuzzer exercises reading, argument checks and query parsing; every line
 * must get exactly one response line that is a JSON object with "ok".  The
 * gate, before authentication, must answer every line (ok only for the
 * right AUTH). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static proto_ctx_t *ctx;
  if (!ctx && !(ctx = proto_ctx_new(NULL, NULL))) abort();
  buf_t out;
  buf_init(&out, 0);
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    unsigned flags;
    buf_reset(&out);
    proto_handle(ctx, p, len, &out, &flags);
    if (out.len < 12 || out.data[0] != '{' || out.data[out.len - 1] != '\n') abort();
    if (memchr(out.data, '\n', out.len - 1)) abort(); /* exactly one line */
    if (strncmp(out.data, "{\"ok\":", 6) != 0) abort();
    proto_req_t r;
    proto_read(p, len, &r);
    int authed = 0, rc;
    buf_reset(&out);
    if (!proto_gate(&r, "fuzz secret", &authed, &out, &rc)) abort();
    if (out.len == 0 || out.data[out.len - 1] != '\n' || (rc == 0) != authed) abort();
    proto_req_fini(&r);
    p += len + (nl ? 1 : 0);
  }
  buf_fini(&out);
  return 0;
}
