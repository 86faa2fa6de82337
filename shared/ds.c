/* ds.c: the stored-document codec (the layout is in ds.h; the details it
 * leaves open are fixed here).
 *
 * Called by the indexer (ds_train once per index on a sample of records,
 * then ds_encode per article) and by the engine (ds_decode for GET and
 * snippets).  One ds_codec_t per thread.
 *
 * Stored form, format DS_FORMAT (2):
 *   byte 0      DS_FORMAT
 *   varint      H, the head frame's size in bytes
 *   varint      T, the tail frame's size in bytes (0: no tail)
 *   H bytes     the head frame: the record, its body cut short (ds__cut)
 *   T bytes     the tail frame: the rest of the body
 * and nothing after (T makes a cut after the head a detected truncation).
 * Format DS_FORMAT_ONE (1), still read: byte 0, then the record's frame.
 * Every frame is one zstd frame with its content size, its dictionary id
 * (when a dictionary is used) and a content checksum, so a damaged frame or
 * the wrong dictionary is detected rather than decoded into garbage.
 * Record (the head frame's content), every integer an unsigned LEB128 varint
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
 * decompress to exactly that, and the decoded strings must be free of NUL
 * bytes and the id present, as doc_parse_json guarantees.  Their UTF-8 is
 * not checked again: the indexer repaired it, each frame's checksum guards
 * it, and every consumer copes with bad bytes (the JSON writer writes
 * U+FFFD, the tokenizer takes them for separators).  Any failure is
 * ERR_CORRUPT.
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
  /* More dictionaries to decode with (ds_codec_add_dict): each frame names
   * the one it needs. */
  ZSTD_DDict **more;
  size_t nmore;
  buf_t rec;     /* scratch: the record being encoded */
  buf_t head;    /* scratch: its head frame */
  buf_t tail;    /* scratch: its tail frame */
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

/* The record of d with only the first body_len bytes of its body. */
static int ds__record(const doc_t *d, size_t body_len, buf_t *out) {
  if (!d->id) return ERR_INVAL;
  for (int i = 0; i < DS_NFIELDS; i++) {
    const char *s = ds__field_of(d, i);
    if (!s) {
      ds__put_varint(out, 0);
      continue;
    }
    size_t n = s == d->body ? body_len : strlen(s);
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

int ds_record(const doc_t *d, buf_t *out) {
  return ds__record(d, d->body ? strlen(d->body) : 0, out);
}

static int ds__space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Where a body of n bytes is cut between the head and the tail frame: just
 * after an ASCII white-space byte (no word, and no UTF-8 sequence, spans
 * it), the last one within DS_HEAD_BODY bytes or else the first after;
 * n (no tail) for a short body or one without white space near. */
static size_t ds__cut(const char *body, size_t n) {
  if (n <= DS_HEAD_BODY + DS_HEAD_BODY / 2) return n;
  for (size_t k = DS_HEAD_BODY; k > DS_HEAD_BODY / 2; k--)
    if (ds__space(body[k - 1])) return k;
  for (size_t k = DS_HEAD_BODY + 1; k < n && k <= 4 * DS_HEAD_BODY; k++)
    if (ds__space(body[k - 1])) return k;
  return n;
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
  if (memchr(s, 0, (size_t)len))
    return err_set(err, ERR_CORRUPT, 0, "stored document: NUL in a field");
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
  for (size_t i = 0; i < c->nmore; i++) ZSTD_freeDDict(c->more[i]);
  free(c->more);
  buf_fini(&c->rec);
  buf_fini(&c->head);
  buf_fini(&c->tail);
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
  buf_init(&c->head, 0);
  buf_init(&c->tail, 0);
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

int ds_codec_add_dict(ds_codec_t *c, const void *dict, size_t dict_len, err_t *err) {
  unsigned id = ds_dict_id(dict, dict_len);
  if (!id) return err_set(err, ERR_CORRUPT, 0, "not a zstd dictionary");
  if (c->ddict && ZSTD_getDictID_fromDDict(c->ddict) == id) return 0;
  for (size_t i = 0; i < c->nmore; i++)
    if (ZSTD_getDictID_fromDDict(c->more[i]) == id) return 0;
  ZSTD_DDict **more = realloc(c->more, (c->nmore + 1) * sizeof *more);
  if (!more) return err_set(err, ERR_NOMEM, 0, NULL);
  c->more = more;
  if (!(more[c->nmore] = ZSTD_createDDict(dict, dict_len)))
    return err_set(err, ERR_CORRUPT, 0, "zstd dictionary is damaged or out of memory");
  c->nmore++;
  return 0;
}

unsigned ds_dict_id(const void *dict, size_t dict_len) {
  return dict && dict_len ? ZSTD_getDictID_fromDict(dict, dict_len) : 0;
}

/* The dictionary the frame src[0..n) was compressed with, or NULL when it
 * names none (or one this codec lacks: zstd then says so). */
static const ZSTD_DDict *ds__ddict_for(const ds_codec_t *c, const char *src, size_t n) {
  unsigned id = ZSTD_getDictID_fromFrame(src, n);
  if (!id || !c->nmore) return c->ddict;
  if (c->ddict && ZSTD_getDictID_fromDDict(c->ddict) == id) return c->ddict;
  for (size_t i = 0; i < c->nmore; i++)
    if (ZSTD_getDictID_fromDDict(c->more[i]) == id) return c->more[i];
  return c->ddict;
}

/* Append one frame of src[0..n) to out. */
static int ds__deflate(ds_codec_t *c, const char *src, size_t n, buf_t *out, err_t *err) {
  size_t bound = ZSTD_compressBound(n);
  if (buf_reserve(out, bound)) return err_set(err, out->err, 0, NULL);
  size_t z = ZSTD_compress2(c->cctx, out->data + out->len, bound, n ? src : "", n);
  if (ZSTD_isError(z))
    return err_set(err, ERR_INTERNAL, 0, "zstd compression failed: %s", ZSTD_getErrorName(z));
  out->len += z;
  out->data[out->len] = '\0';
  return 0;
}

int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err) {
  size_t blen = d->body ? strlen(d->body) : 0, cut = d->body ? ds__cut(d->body, blen) : 0;
  if (blen - cut > DS_MAX_RECORD)
    return err_set(err, ERR_TOO_LONG, 0, "stored document over %zu bytes", DS_MAX_RECORD);
  buf_reset(&c->rec);
  int rc = ds__record(d, cut, &c->rec);
  if (rc == ERR_INVAL) return err_set(err, rc, 0, "document without id");
  if (rc == ERR_TOO_LONG)
    return err_set(err, rc, 0, "stored document over %zu bytes", DS_MAX_RECORD);
  if (rc) return err_set(err, rc, 0, NULL);
  /* Both frames are compressed apart first: their sizes come before them. */
  buf_reset(&c->head);
  buf_reset(&c->tail);
  if ((rc = ds__deflate(c, c->rec.data, c->rec.len, &c->head, err))) return rc;
  if (cut < blen && (rc = ds__deflate(c, d->body + cut, blen - cut, &c->tail, err))) return rc;
  buf_putc(out, DS_FORMAT);
  ds__put_varint(out, c->head.len);
  ds__put_varint(out, c->tail.len);
  buf_append(out, c->head.data, c->head.len);
  if (c->tail.len) buf_append(out, c->tail.data, c->tail.len);
  return out->err ? err_set(err, out->err, 0, NULL) : 0;
}

/* The content size of the zstd frame that is exactly src[0..n). */
static int ds__frame_size(const char *src, size_t n, size_t *size, err_t *err) {
  size_t fsz = ZSTD_findFrameCompressedSize(src, n);
  if (ZSTD_isError(fsz) || fsz != n)
    return err_set(err, ERR_CORRUPT, 0, "stored document: not one zstd frame");
  unsigned long long sz = ZSTD_getFrameContentSize(src, n);
  if (sz == ZSTD_CONTENTSIZE_ERROR || sz == ZSTD_CONTENTSIZE_UNKNOWN || sz > DS_MAX_RECORD)
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame size");
  *size = (size_t)sz;
  return 0;
}

/* Decompress the frame src[0..n) of content size `size` into dst, which has
 * room for size + 1 bytes. */
static int ds__inflate(ds_codec_t *c, const char *src, size_t n, char *dst, size_t size,
                       err_t *err) {
  const ZSTD_DDict *dd = ds__ddict_for(c, src, n);
  size_t got = dd ? ZSTD_decompress_usingDDict(c->dctx, dst, size + 1, src, n, dd)
                  : ZSTD_decompressDCtx(c->dctx, dst, size + 1, src, n);
  if (ZSTD_isError(got)) {
    return err_set(err, ERR_CORRUPT, 0, "stored document: %s%s", ZSTD_getErrorName(got),
                   ZSTD_getErrorCode(got) == ZSTD_error_dictionary_wrong
                       ? " (the index's dictionary does not match)"
                       : "");
  }
  if (got != size) return err_set(err, ERR_CORRUPT, 0, "stored document: size mismatch");
  return 0;
}

/* The frames of stored data: head[0..*hn), then tail[0..*tn) (*tn 0: none). */
static int ds__frames(const char *data, size_t len, const char **head, size_t *hn,
                      const char **tail, size_t *tn, err_t *err) {
  if (len < 1 || ((unsigned char)data[0] != DS_FORMAT && (unsigned char)data[0] != DS_FORMAT_ONE))
    return err_set(err, ERR_CORRUPT, 0, "stored document: unknown format");
  const unsigned char *p = (const unsigned char *)data + 1, *end = (const unsigned char *)data + len;
  *hn = len - 1;
  *tn = 0;
  if ((unsigned char)data[0] == DS_FORMAT) {
    uint64_t h, t;
    if (ds__get_varint(&p, end, &h) || ds__get_varint(&p, end, &t) ||
        h > (uint64_t)(end - p) || t != (uint64_t)(end - p) - h)
      return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame sizes");
    *hn = (size_t)h;
    *tn = (size_t)t;
  }
  *head = (const char *)p;
  *tail = *head + *hn;
  return 0;
}

/* The body: prefix[0..plen) then the tail frame's tsize bytes, in arena a. */
static int ds__join(ds_codec_t *c, const char *prefix, size_t plen, const char *tail, size_t tn,
                    size_t tsize, arena_t *a, const char **body, err_t *err) {
  if (tsize > DS_MAX_RECORD - plen)
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame size");
  char *b = arena_alloc(a, plen + tsize + 1);
  if (!b) return err_set(err, ERR_NOMEM, 0, NULL);
  memcpy(b, prefix, plen);
  int rc = ds__inflate(c, tail, tn, b + plen, tsize, err);
  if (rc) return rc;
  if (memchr(b + plen, 0, tsize))
    return err_set(err, ERR_CORRUPT, 0, "stored document: NUL in the body");
  b[plen + tsize] = '\0';
  *body = b;
  return 0;
}

/* ds_decode (rest NULL) and ds_decode_head. */
static int ds__decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d,
                      size_t *rest, err_t *err) {
  const char *head = NULL, *tail = NULL;
  size_t hn = 0, tn = 0, size = 0, tsize = 0;
  int rc = ds__frames(data, len, &head, &hn, &tail, &tn, err);
  if (!rc) rc = ds__frame_size(head, hn, &size, err);
  if (!rc && tn) rc = ds__frame_size(tail, tn, &tsize, err);
  if (rc) return rc;
  if (size + 1 > c->scratch_cap) {
    size_t cap = c->scratch_cap ? c->scratch_cap : 64 * 1024;
    while (cap < size + 1) cap *= 2;
    char *np = realloc(c->scratch, cap);
    if (!np) return err_set(err, ERR_NOMEM, 0, NULL);
    c->scratch = np;
    c->scratch_cap = cap;
  }
  if ((rc = ds__inflate(c, head, hn, c->scratch, size, err))) return rc;
  const unsigned char *r = (const unsigned char *)c->scratch;
  if ((rc = ds__parse(r, r + size, a, d, err))) return rc;
  if (!tn) return 0;
  if (!d->body || tsize == 0)
    return err_set(err, ERR_CORRUPT, 0, "stored document: a tail frame without a body");
  if (rest) {
    *rest = tsize;
    return 0;
  }
  return ds__join(c, d->body, strlen(d->body), tail, tn, tsize, a, &d->body, err);
}

int ds_decode_tail(ds_codec_t *c, const char *data, size_t len, const char *start, arena_t *a,
                   const char **body, err_t *err) {
  const char *head = NULL, *tail = NULL;
  size_t hn = 0, tn = 0, tsize = 0;
  *body = NULL;
  int rc = ds__frames(data, len, &head, &hn, &tail, &tn, err);
  if (!rc && tn) rc = ds__frame_size(tail, tn, &tsize, err);
  if (!rc && tsize == 0) rc = err_set(err, ERR_CORRUPT, 0, "stored document: no tail frame");
  return rc ? rc : ds__join(c, start, strlen(start), tail, tn, tsize, a, body, err);
}

int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err) {
  memset(d, 0, sizeof *d);
  int rc = ds__decode(c, data, len, a, d, NULL, err);
  if (rc) memset(d, 0, sizeof *d);
  return rc;
}

int ds_decode_head(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, size_t *rest,
                   err_t *err) {
  memset(d, 0, sizeof *d);
  *rest = 0;
  int rc = ds__decode(c, data, len, a, d, rest, err);
  if (rc) {
    memset(d, 0, sizeof *d);
    *rest = 0;
  }
  return rc;
}
