/* ds.c: the stored-document codec (the layout is in ds.h; the details it
 * leaves open are fixed here).
 *
 * Called by the indexer (ds_train once per index on a sample of records,
 * then ds_encode per article) and by the engine (ds_decode for GET and
 * snippets).  One ds_codec_t per thread.
 *
 * Stored form, format DS_FORMAT (1):
 *   byte 0      DS_FORMAT
 *   bytes 1..   exactly one zstd frame, with its content size, its dictionary
 *               id (when a dictionary is used) and a content checksum, so a
 *               damaged frame or the wrong dictionary is detected rather than
 *               decoded into garbage.
 * Record (the frame's content), every integer an unsigned LEB128 varint
 * (7 bits per byte, least significant first, high bit = more; at most 10
 * bytes, values fitting 64 bits):
 *   for id, outlet, date, title, url, author, lang, body:
 *     varint(len + 1) then len bytes; varint 0 = absent
 *   varint(ntags), then per tag varint(len) then len bytes
 *   nothing after the last tag.
 * Dictionaries must be zstd dictionaries (ds_train's output, which carries a
 * dictionary id); raw-content dictionaries are refused.
 *
 * ds_decode trusts nothing: every length is checked against the bytes left,
 * the frame must announce a content size of at most DS_MAX_RECORD and
 * decompress to exactly that, and the decoded strings must be valid UTF-8
 * without NUL bytes and the id present, as doc_parse_json guarantees.  Any
 * failure is ERR_CORRUPT.
 */
#include "ds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>
#include <zstd_errors.h>

#define DS_MAX_RECORD ((size_t)64 << 20) /* decompressed bytes */
#define DS_NFIELDS 8

struct ds_codec {
  ZSTD_CCtx *cctx;
  ZSTD_DCtx *dctx;
  ZSTD_CDict *cdict; /* NULL: no dictionary */
  ZSTD_DDict *ddict;
  buf_t rec;     /* scratch: the record being encoded */
  char *scratch; /* scratch: the record being decoded */
  size_t scratch_cap;
};

/* The string fields in record order. */
static const char *ds__field_of(const doc_t *d, int i) {
  const char *const f[DS_NFIELDS] = {d->id,  d->outlet, d->date, d->title,
                                     d->url, d->author, d->lang, d->body};
  return f[i];
}

static const char **ds__field(doc_t *d, int i) {
  switch (i) {
    case 0:
      return &d->id;
    case 1:
      return &d->outlet;
    case 2:
      return &d->date;
    case 3:
      return &d->title;
    case 4:
      return &d->url;
    case 5:
      return &d->author;
    case 6:
      return &d->lang;
    default:
      return &d->body;
  }
}

/* ---- record ---- */

static void ds__put_varint(buf_t *out, uint64_t v) {
  unsigned char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  b[n++] = (unsigned char)v;
  buf_append(out, b, n);
}

int ds_record(const doc_t *d, buf_t *out) {
  if (!d->id) return ERR_INVAL;
  for (int i = 0; i < DS_NFIELDS; i++) {
    const char *s = ds__field_of(d, i);
    if (!s) {
      ds__put_varint(out, 0);
      continue;
    }
    size_t n = strlen(s);
    ds__put_varint(out, (uint64_t)n + 1);
    buf_append(out, s, n);
  }
  ds__put_varint(out, d->ntags);
  for (size_t i = 0; i < d->ntags; i++) {
    const char *t = d->tags[i] ? d->tags[i] : "";
    size_t n = strlen(t);
    ds__put_varint(out, n);
    buf_append(out, t, n);
  }
  return out->err;
}

/* Reads a varint at *p (< end); 0, or -1 when truncated or over 64 bits. */
static int ds__get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  uint64_t x = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return -1;
    unsigned c = *(*p)++;
    if (shift == 63 && c > 1) return -1;
    x |= (uint64_t)(c & 0x7F) << shift;
    if (!(c & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* A decoded string: len bytes at *p, checked, copied into the arena. */
static int ds__get_str(const unsigned char **p, const unsigned char *end, uint64_t len, arena_t *a,
                       const char **out, err_t *err) {
  if (len > (uint64_t)(end - *p))
    return err_set(err, ERR_CORRUPT, 0, "stored document: field runs past the record");
  /* No UTF-8 check here: the text was repaired before it was stored, and the
   * frame's checksum (ds_decode) rejects any later damage. */
  const char *s = (const char *)*p;
  if (!(*out = arena_strndup(a, s, (size_t)len))) return err_set(err, ERR_NOMEM, 0, NULL);
  *p += len;
  return 0;
}

static int ds__parse(const unsigned char *p, const unsigned char *end, arena_t *a, doc_t *d,
                     err_t *err) {
  int rc;
  uint64_t v;
  for (int i = 0; i < DS_NFIELDS; i++) {
    if (ds__get_varint(&p, end, &v))
      return err_set(err, ERR_CORRUPT, 0, "stored document: truncated record");
    if (v == 0) continue;
    if ((rc = ds__get_str(&p, end, v - 1, a, ds__field(d, i), err))) return rc;
  }
  if (!d->id || !*d->id) return err_set(err, ERR_CORRUPT, 0, "stored document without id");
  if (ds__get_varint(&p, end, &v))
    return err_set(err, ERR_CORRUPT, 0, "stored document: truncated record");
  /* Each tag takes at least one byte: a count beyond the bytes left is a lie. */
  if (v > (uint64_t)(end - p))
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad tag count");
  if (v) {
    const char **tags = arena_calloc(a, (size_t)v, sizeof *tags);
    if (!tags) return err_set(err, ERR_NOMEM, 0, NULL);
    for (uint64_t i = 0; i < v; i++) {
      uint64_t n;
      if (ds__get_varint(&p, end, &n))
        return err_set(err, ERR_CORRUPT, 0, "stored document: truncated record");
      if ((rc = ds__get_str(&p, end, n, a, &tags[i], err))) return rc;
    }
    d->tags = tags;
    d->ntags = (size_t)v;
  }
  if (p != end) return err_set(err, ERR_CORRUPT, 0, "stored document: bytes after the record");
  if (d->date) doc_parse_date(d->date, d->day, d->sortkey, NULL);
  return 0;
}

/* ---- dictionary ---- */

int ds_train(const char *samples, const size_t *sizes, size_t n, size_t dict_cap, buf_t *out,
             err_t *err) {
  if (n == 0 || n > UINT32_MAX || dict_cap < 256)
    return err_set(err, ERR_INVAL, 0, "zstd dictionary: too few samples or too small a size");
  if (buf_reserve(out, dict_cap)) return err_set(err, out->err, 0, NULL);
  size_t got = ZDICT_trainFromBuffer(out->data + out->len, dict_cap, samples, sizes, (unsigned)n);
  if (ZDICT_isError(got))
    return err_set(err, ERR_INVAL, 0, "zstd dictionary training failed: %s",
                   ZDICT_getErrorName(got));
  out->len += got;
  out->data[out->len] = '\0';
  return 0;
}

/* ---- codec ---- */

void ds_codec_free(ds_codec_t *c) {
  if (!c) return;
  ZSTD_freeCCtx(c->cctx);
  ZSTD_freeDCtx(c->dctx);
  ZSTD_freeCDict(c->cdict);
  ZSTD_freeDDict(c->ddict);
  buf_fini(&c->rec);
  free(c->scratch);
  free(c);
}

int ds_codec_new(const void *dict, size_t dict_len, int level, ds_codec_t **out, err_t *err) {
  *out = NULL;
  if (level == 0) level = ZSTD_CLEVEL_DEFAULT;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
    return err_set(err, ERR_INVAL, 0, "zstd level %d out of range", level);
  if (dict_len && (!dict || ZSTD_getDictID_fromDict(dict, dict_len) == 0))
    return err_set(err, ERR_CORRUPT, 0, "not a zstd dictionary");
  ds_codec_t *c = calloc(1, sizeof *c);
  if (!c) return err_set(err, ERR_NOMEM, 0, NULL);
  buf_init(&c->rec, DS_MAX_RECORD);
  c->cctx = ZSTD_createCCtx();
  c->dctx = ZSTD_createDCtx();
  if (!c->cctx || !c->dctx) goto nomem;
  if (ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 1)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1)))
    goto internal;
  if (dict_len) {
    c->cdict = ZSTD_createCDict(dict, dict_len, level);
    c->ddict = ZSTD_createDDict(dict, dict_len);
    if (!c->cdict || !c->ddict) {
      /* A dictionary with a valid header but damaged tables also lands here. */
      ds_codec_free(c);
      return err_set(err, ERR_CORRUPT, 0, "zstd dictionary is damaged or out of memory");
    }
    if (ZSTD_isError(ZSTD_CCtx_refCDict(c->cctx, c->cdict)) ||
        ZSTD_isError(ZSTD_DCtx_refDDict(c->dctx, c->ddict)))
      goto internal;
  }
  *out = c;
  return 0;
nomem:
  ds_codec_free(c);
  return err_set(err, ERR_NOMEM, 0, NULL);
internal:
  ds_codec_free(c);
  return err_set(err, ERR_INTERNAL, 0, "zstd refused the codec parameters");
}

int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err) {
  buf_reset(&c->rec);
  int rc = ds_record(d, &c->rec);
  if (rc == ERR_INVAL) return err_set(err, rc, 0, "document without id");
  if (rc == ERR_TOO_LONG)
    return err_set(err, rc, 0, "stored document over %zu bytes", DS_MAX_RECORD);
  if (rc) return err_set(err, rc, 0, NULL);
  size_t bound = ZSTD_compressBound(c->rec.len);
  if (buf_reserve(out, 1 + bound)) return err_set(err, out->err, 0, NULL);
  char *dst = out->data + out->len;
  dst[0] = DS_FORMAT;
  size_t z = ZSTD_compress2(c->cctx, dst + 1, bound, c->rec.len ? c->rec.data : "", c->rec.len);
  if (ZSTD_isError(z))
    return err_set(err, ERR_INTERNAL, 0, "zstd compression failed: %s", ZSTD_getErrorName(z));
  out->len += 1 + z;
  out->data[out->len] = '\0';
  return 0;
}

int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err) {
  memset(d, 0, sizeof *d);
  if (len < 1 || (unsigned char)data[0] != DS_FORMAT)
    return err_set(err, ERR_CORRUPT, 0, "stored document: unknown format");
  const char *src = data + 1;
  size_t n = len - 1;
  size_t fsz = ZSTD_findFrameCompressedSize(src, n);
  if (ZSTD_isError(fsz) || fsz != n)
    return err_set(err, ERR_CORRUPT, 0, "stored document: not one zstd frame");
  unsigned long long size = ZSTD_getFrameContentSize(src, n);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > DS_MAX_RECORD)
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame size");
  if (size + 1 > c->scratch_cap) {
    size_t cap = c->scratch_cap ? c->scratch_cap : 64 * 1024;
    while (cap < size + 1) cap *= 2;
    char *p = realloc(c->scratch, cap);
    if (!p) return err_set(err, ERR_NOMEM, 0, NULL);
    c->scratch = p;
    c->scratch_cap = cap;
  }
  size_t got =
      c->ddict ? ZSTD_decompress_usingDDict(c->dctx, c->scratch, (size_t)size + 1, src, n, c->ddict)
               : ZSTD_decompressDCtx(c->dctx, c->scratch, (size_t)size + 1, src, n);
  if (ZSTD_isError(got)) {
    return err_set(err, ERR_CORRUPT, 0, "stored document: %s%s", ZSTD_getErrorName(got),
                   ZSTD_getErrorCode(got) == ZSTD_error_dictionary_wrong
                       ? " (the index's dictionary does not match)"
                       : "");
  }
  if (got != size) return err_set(err, ERR_CORRUPT, 0, "stored document: size mismatch");
  const unsigned char *p = (const unsigned char *)c->scratch;
  int rc = ds__parse(p, p + got, a, d, err);
  if (rc) memset(d, 0, sizeof *d);
  return rc;
}
