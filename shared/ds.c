/* ds.c: the stored-document codec (the layout is in ds.h; the details it
 * leaves open are fixed here).
 *
 * Called by the indexer (ds_train once per index on a sample of records,
 * then ds_encode per article) and by the engine (ds_decode for GET and
 * snippets).  One ds_codec_t per thread.
 *
 * Stored form, format DS_FORMAT (3):
 *   byte 0      DS_FORMAT
 *   4 bytes     FNV-1a 32 (hash.h, little-endian) of the header and fields
 *               below, up to the first frame: plain bytes need their own
 *               check, as frames carry theirs
 *   varint F    the fields' size in bytes
 *   varint N    the number of body blocks (0: no body, or an empty one)
 *   varint T    the title's word count
 *   N times     varint block length (bytes of body text, > 0), varint frame
 *               size, varint index of the block's first body word
 *               (non-decreasing)
 *   F bytes     the record, with the body field's length and no body bytes,
 *               masked (ds__mask: why)
 *   the N frames, one per block, masked, and nothing after.
 * Blocks are cut like format 2's head (ds__cut) every DS_BLOCK bytes or so.
 * Words are counted with tok_iter_init (closed forms of hyphenated runs are
 * extra words at their run's position, so they are not counted): the
 * indexer numbers title words from 1 and body words from the title's count
 * plus SCHEMA_TITLE_GAP (schema.h), which is how a reader goes from a
 * word's position to its block.
 * Format DS_FORMAT_TWO (2), still read and written on request:
 *   byte 0      DS_FORMAT_TWO
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

#include "hash.h"
#include "tok.h"

#define DS_MAX_RECORD ((size_t)64 << 20) /* decompressed bytes */
#define DS_NFIELDS 8
#define DS_MASK_WORDS 8192 /* the mask stream's first 64 KB, kept by each codec (ds__mask) */

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
  buf_t tail;    /* scratch: its tail frame (format 3: its blocks' frames) */
  buf_t table;   /* scratch: format 3's header and fields */
  int format;    /* written: DS_FORMAT or DS_FORMAT_TWO */
  char *scratch; /* scratch: the record being decoded */
  size_t scratch_cap;
  uint64_t *keys; /* the mask stream's first DS_MASK_WORDS words */
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

/* The record of d with only the first body_len bytes of its body, or
 * (body_out 0: format 3) with its length and none of its bytes. */
static int ds__record(const doc_t *d, size_t body_len, int body_out, buf_t *out) {
  if (!d->id) return ERR_INVAL;
  for (int i = 0; i < DS_NFIELDS; i++) {
    const char *s = ds__field_of(d, i);
    if (!s) {
      ds__put_varint(out, 0);
      continue;
    }
    size_t n = s == d->body ? body_len : strlen(s);
    ds__put_varint(out, (uint64_t)n + 1);
    if (s != d->body || body_out) buf_append(out, s, n);
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
  return ds__record(d, d->body ? strlen(d->body) : 0, 1, out);
}

static int ds__space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Where a body of n bytes is cut after about `size` bytes (between format
 * 2's head and tail, between format 3's blocks): just after an ASCII
 * white-space byte (no word, and no UTF-8 sequence, spans it), the last one
 * within size bytes or else the first after; n (no cut) for a short body or
 * one without white space near. */
static size_t ds__cut(const char *body, size_t n, size_t size) {
  if (n <= size + size / 2) return n;
  for (size_t k = size; k > size / 2; k--)
    if (ds__space(body[k - 1])) return k;
  for (size_t k = size + 1; k < n && k <= 4 * size; k++)
    if (ds__space(body[k - 1])) return k;
  return n;
}

/* Word k of the mask stream (ds__mask): splitmix64 of k + 1. */
static uint64_t ds__stream(uint64_t k) {
  uint64_t z = (k + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* XOR p[0..n), which starts `at` bytes into the masked part of stored
 * data, with a fixed pseudo-random stream (its own inverse; each 8-byte
 * word's from its index, so any piece unmasks alone).  Xapian's glass
 * backend zlib-compresses any document data zlib can shrink, and a reader
 * then inflates the whole record on every read: the plain fields, and the
 * raw literals zstd leaves in small frames, made it shrink, and reading
 * cost more than the zstd frames saved.  Masked, the record is stored as
 * it is.  Not a secret: anyone can unmask it.  The stream's first
 * DS_MASK_WORDS words come from c's table (a stored document seldom
 * reaches past 64 KB): computed, they cost a term_rare request 16k
 * instructions; read, a word costs a load. */
static void ds__mask(const ds_codec_t *c, unsigned char *p, size_t n, size_t at) {
  for (size_t i = 0; i < n;) {
    size_t k = (at + i) / 8, j = (at + i) % 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (j == 0 && n - i >= 8) { /* whole words: byte j of one takes z >> 8j */
      size_t end = k + (n - i) / 8;
      for (; k < end; k++, i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= k < DS_MASK_WORDS ? c->keys[k] : ds__stream(k);
        memcpy(p + i, &v, 8);
      }
      continue;
    }
#endif
    uint64_t z = k < DS_MASK_WORDS ? c->keys[k] : ds__stream(k);
    for (; j < 8 && i < n; j++, i++) p[i] ^= (unsigned char)(z >> (8 * j));
  }
}

/* Words in text[0..n), as the indexer numbers them (tok_iter_init). */
static uint32_t ds__words(const char *text, size_t n) {
  tok_iter_t it;
  tok_word_t w;
  uint32_t k = 0;
  tok_iter_init(&it, text, n);
  while (tok_next(&it, &w)) k++;
  return k;
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

/* The record p[0..end) into *d; with body_len (format 3) the body field
 * is only its length: *body_len, or SIZE_MAX when absent. */
static int ds__parse(const unsigned char *p, const unsigned char *end, arena_t *a, doc_t *d,
                     size_t *body_len, err_t *err) {
  int rc;
  uint64_t v;
  for (int i = 0; i < DS_NFIELDS; i++) {
    if (ds__get_varint(&p, end, &v))
      return err_set(err, ERR_CORRUPT, 0, "stored document: truncated record");
    if (body_len && i == DS_NFIELDS - 1) {
      if (v > DS_MAX_RECORD + 1)
        return err_set(err, ERR_CORRUPT, 0, "stored document: bad body size");
      *body_len = v ? (size_t)v - 1 : SIZE_MAX;
      continue;
    }
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
  buf_fini(&c->table);
  free(c->scratch);
  free(c->keys);
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
  buf_init(&c->table, 0);
  c->format = DS_FORMAT;
  c->cctx = ZSTD_createCCtx();
  c->dctx = ZSTD_createDCtx();
  c->keys = malloc(DS_MASK_WORDS * sizeof *c->keys);
  if (!c->cctx || !c->dctx || !c->keys) goto nomem;
  for (size_t k = 0; k < DS_MASK_WORDS; k++) c->keys[k] = ds__stream(k);
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
  if (!c->nmore) return c->ddict; /* one dictionary: no need to read the frame's */
  unsigned id = ZSTD_getDictID_fromFrame(src, n);
  if (!id) return c->ddict;
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

int ds_codec_set_format(ds_codec_t *c, int format, err_t *err) {
  if (format != DS_FORMAT && format != DS_FORMAT_TWO)
    return err_set(err, ERR_INVAL, 0, "stored documents are written in format %d or %d, not %d",
                   DS_FORMAT_TWO, DS_FORMAT, format);
  c->format = format;
  return 0;
}

static int ds__record_err(int rc, err_t *err) {
  if (rc == ERR_INVAL) return err_set(err, rc, 0, "document without id");
  if (rc == ERR_TOO_LONG)
    return err_set(err, rc, 0, "stored document over %zu bytes", DS_MAX_RECORD);
  return err_set(err, rc, 0, NULL);
}

/* Format 2: the head frame and the tail frame. */
static int ds__encode_two(ds_codec_t *c, const doc_t *d, size_t blen, buf_t *out, err_t *err) {
  size_t cut = d->body ? ds__cut(d->body, blen, DS_HEAD_BODY) : 0;
  buf_reset(&c->rec);
  int rc = ds__record(d, cut, 1, &c->rec);
  if (rc) return ds__record_err(rc, err);
  /* Both frames are compressed apart first: their sizes come before them. */
  buf_reset(&c->head);
  buf_reset(&c->tail);
  if ((rc = ds__deflate(c, c->rec.data, c->rec.len, &c->head, err))) return rc;
  if (cut < blen && (rc = ds__deflate(c, d->body + cut, blen - cut, &c->tail, err))) return rc;
  buf_putc(out, DS_FORMAT_TWO);
  ds__put_varint(out, c->head.len);
  ds__put_varint(out, c->tail.len);
  buf_append(out, c->head.data, c->head.len);
  if (c->tail.len) buf_append(out, c->tail.data, c->tail.len);
  return out->err ? err_set(err, out->err, 0, NULL) : 0;
}

int ds_encode(ds_codec_t *c, const doc_t *d, buf_t *out, err_t *err) {
  size_t blen = d->body ? strlen(d->body) : 0;
  if (blen > DS_MAX_RECORD)
    return err_set(err, ERR_TOO_LONG, 0, "stored document over %zu bytes", DS_MAX_RECORD);
  if (c->format == DS_FORMAT_TWO) return ds__encode_two(c, d, blen, out, err);
  buf_reset(&c->rec);
  int rc = ds__record(d, blen, 0, &c->rec);
  if (rc) return ds__record_err(rc, err);
  /* The blocks: their table entries in head, their frames in tail. */
  buf_reset(&c->head);
  buf_reset(&c->tail);
  size_t nblocks = 0;
  uint32_t words = 0;
  for (size_t at = 0; at < blen; nblocks++) {
    size_t n = ds__cut(d->body + at, blen - at, DS_BLOCK), before = c->tail.len;
    if ((rc = ds__deflate(c, d->body + at, n, &c->tail, err))) return rc;
    ds__put_varint(&c->head, n);
    ds__put_varint(&c->head, c->tail.len - before);
    ds__put_varint(&c->head, words);
    words += ds__words(d->body + at, n);
    at += n;
  }
  buf_t *t = &c->table;
  buf_reset(t);
  ds__put_varint(t, c->rec.len);
  ds__put_varint(t, nblocks);
  ds__put_varint(t, d->title ? ds__words(d->title, strlen(d->title)) : 0);
  buf_append(t, c->head.data, c->head.len);
  ds__mask(c, (unsigned char *)c->rec.data, c->rec.len, 0);
  ds__mask(c, (unsigned char *)c->tail.data, c->tail.len, c->rec.len);
  buf_append(t, c->rec.data, c->rec.len);
  if (t->err || c->head.err) return err_set(err, ERR_NOMEM, 0, NULL);
  uint32_t sum = hash_fnv32(HASH_FNV32_START, t->data, t->len);
  unsigned char h[5] = {DS_FORMAT, (unsigned char)sum, (unsigned char)(sum >> 8),
                        (unsigned char)(sum >> 16), (unsigned char)(sum >> 24)};
  buf_append(out, h, sizeof h);
  buf_append(out, t->data, t->len);
  buf_append(out, c->tail.data, c->tail.len);
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

/* Decompress the frame src[0..n) of content size `size` into dst[0..size). */
static int ds__inflate(ds_codec_t *c, const char *src, size_t n, char *dst, size_t size,
                       err_t *err) {
  const ZSTD_DDict *dd = ds__ddict_for(c, src, n);
  size_t got = dd ? ZSTD_decompress_usingDDict(c->dctx, dst, size, src, n, dd)
                  : ZSTD_decompressDCtx(c->dctx, dst, size, src, n);
  if (ZSTD_isError(got)) {
    return err_set(err, ERR_CORRUPT, 0, "stored document: %s%s", ZSTD_getErrorName(got),
                   ZSTD_getErrorCode(got) == ZSTD_error_dictionary_wrong
                       ? " (the index's dictionary does not match)"
                       : "");
  }
  if (got != size) return err_set(err, ERR_CORRUPT, 0, "stored document: size mismatch");
  return 0;
}

/* Formats 1 and 2: the frames of stored data: head[0..*hn), then
 * tail[0..*tn) (*tn 0: none). */
static int ds__frames(const char *data, size_t len, const char **head, size_t *hn,
                      const char **tail, size_t *tn, err_t *err) {
  const unsigned char *p = (const unsigned char *)data + 1,
                      *end = (const unsigned char *)data + len;
  *hn = len - 1;
  *tn = 0;
  if ((unsigned char)data[0] == DS_FORMAT_TWO) {
    uint64_t h, t;
    if (ds__get_varint(&p, end, &h) || ds__get_varint(&p, end, &t) || h > (uint64_t)(end - p) ||
        t != (uint64_t)(end - p) - h)
      return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame sizes");
    *hn = (size_t)h;
    *tn = (size_t)t;
  }
  *head = (const char *)p;
  *tail = *head + *hn;
  return 0;
}

/* A body of len bytes (SIZE_MAX: none) with nblocks blocks, in arena a:
 * its text undefined until blocks are decoded (ds.h). */
static int ds__body(ds_body_t *b, size_t len, size_t nblocks, arena_t *a, err_t *err) {
  if (len == SIZE_MAX) return 0;
  b->len = len;
  b->nblocks = nblocks;
  b->text = arena_alloc(a, len + 1);
  b->blocks = arena_calloc(a, nblocks ? nblocks : 1, sizeof *b->blocks);
  if (!b->text || !b->blocks) return err_set(err, ERR_NOMEM, 0, NULL);
  b->text[len] = '\0';
  return 0;
}

/* Formats 1 and 2: the head frame decoded (the fields and the start of the
 * body, block 0, ready), the tail as block 1. */
static int ds__open_two(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d,
                        ds_body_t *b, err_t *err) {
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
  if ((rc = ds__parse(r, r + size, a, d, NULL, err))) return rc;
  if (tn && (!d->body || tsize == 0))
    return err_set(err, ERR_CORRUPT, 0, "stored document: a tail frame without a body");
  if (!d->body) return 0;
  size_t plen = strlen(d->body);
  if (tsize > DS_MAX_RECORD - plen)
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad frame size");
  if ((rc = ds__body(b, plen + tsize, tn ? 2 : 1, a, err))) return rc;
  memcpy(b->text, d->body, plen);
  b->blocks[0] = (ds_block_t){0, plen, 0, NULL, 0, 1};
  if (tn) b->blocks[1] = (ds_block_t){plen, tsize, 0, tail, tn, 0};
  d->body = NULL;
  return 0;
}

/* Format 3: the checked header, the fields, the block table. */
static int ds__open_three(const ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d,
                          ds_body_t *b, err_t *err) {
  const unsigned char *u = (const unsigned char *)data, *end = u + len, *p = u + 5;
  uint64_t f, n, tw;
  if (len < 5 || ds__get_varint(&p, end, &f) || ds__get_varint(&p, end, &n) ||
      ds__get_varint(&p, end, &tw) || n > (uint64_t)(end - p) / 3 || tw > UINT32_MAX)
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad header");
  /* The table, read twice: first to find where the frames start, so the
   * checksum is known good before anything is believed. */
  const unsigned char *q = p;
  for (uint64_t i = 0; i < 3 * n; i++) {
    uint64_t v;
    if (ds__get_varint(&q, end, &v))
      return err_set(err, ERR_CORRUPT, 0, "stored document: bad block table");
  }
  if (f > (uint64_t)(end - q))
    return err_set(err, ERR_CORRUPT, 0, "stored document: bad fields size");
  const unsigned char *fields = q, *frames = q + f;
  uint32_t sum = (uint32_t)u[1] | (uint32_t)u[2] << 8 | (uint32_t)u[3] << 16 | (uint32_t)u[4] << 24;
  if (hash_fnv32(HASH_FNV32_START, u + 5, (size_t)(frames - (u + 5))) != sum)
    return err_set(err, ERR_CORRUPT, 0, "stored document: checksum mismatch");
  size_t blen;
  unsigned char *plain = arena_alloc(a, f ? (size_t)f : 1);
  if (!plain) return err_set(err, ERR_NOMEM, 0, NULL);
  memcpy(plain, fields, (size_t)f);
  ds__mask(c, plain, (size_t)f, 0);
  b->masked = (const char *)fields;
  int rc = ds__parse(plain, plain + f, a, d, &blen, err);
  if (rc) return rc;
  if ((blen == SIZE_MAX || blen == 0) && n)
    return err_set(err, ERR_CORRUPT, 0, "stored document: blocks without a body");
  if ((rc = ds__body(b, blen, (size_t)n, a, err))) return rc;
  b->words = 1;
  b->title_words = (uint32_t)tw;
  size_t at = 0, fat = 0, left = (size_t)(end - frames);
  uint64_t prev = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t bl = 0, fl = 0, w = 0;
    ds__get_varint(&p, end, &bl);
    ds__get_varint(&p, end, &fl);
    ds__get_varint(&p, end, &w);
    if (bl == 0 || bl > blen - at || fl > left - fat || w < prev || w > UINT32_MAX)
      return err_set(err, ERR_CORRUPT, 0, "stored document: bad block table");
    b->blocks[i] =
        (ds_block_t){at, (size_t)bl, (uint32_t)w, (const char *)frames + fat, (size_t)fl, 0};
    at += (size_t)bl;
    if (at < blen) b->text[at - 1] = ' '; /* ds.h: the byte before the next block */
    fat += (size_t)fl;
    prev = w;
  }
  if (b->text && at != blen)
    return err_set(err, ERR_CORRUPT, 0, "stored document: blocks short of the body");
  if (fat != left) return err_set(err, ERR_CORRUPT, 0, "stored document: bytes after the blocks");
  return 0;
}

int ds_open(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, ds_body_t *b,
            err_t *err) {
  memset(d, 0, sizeof *d);
  memset(b, 0, sizeof *b);
  unsigned f = len ? (unsigned char)data[0] : 0;
  int rc = f == DS_FORMAT ? ds__open_three(c, data, len, a, d, b, err)
           : f == DS_FORMAT_TWO || f == DS_FORMAT_ONE
               ? ds__open_two(c, data, len, a, d, b, err)
               : err_set(err, ERR_CORRUPT, 0, "stored document: unknown format");
  if (rc) {
    memset(d, 0, sizeof *d);
    memset(b, 0, sizeof *b);
  }
  return rc;
}

int ds_block(ds_codec_t *c, ds_body_t *b, size_t i, err_t *err) {
  ds_block_t *k = &b->blocks[i];
  if (k->ready) return 0;
  const char *frame = k->frame;
  if (b->masked) { /* format 3: unmasked into the scratch space */
    if (k->frame_len > c->scratch_cap) {
      char *np = realloc(c->scratch, k->frame_len);
      if (!np) return err_set(err, ERR_NOMEM, 0, NULL);
      c->scratch = np;
      c->scratch_cap = k->frame_len;
    }
    memcpy(c->scratch, k->frame, k->frame_len);
    ds__mask(c, (unsigned char *)c->scratch, k->frame_len, (size_t)(k->frame - b->masked));
    frame = c->scratch;
  }
  size_t size = 0;
  int rc = ds__frame_size(frame, k->frame_len, &size, err);
  if (!rc && size != k->len) rc = err_set(err, ERR_CORRUPT, 0, "stored document: bad block size");
  if (!rc) rc = ds__inflate(c, frame, k->frame_len, b->text + k->start, k->len, err);
  if (!rc && memchr(b->text + k->start, 0, k->len))
    rc = err_set(err, ERR_CORRUPT, 0, "stored document: NUL in the body");
  if (rc) {
    memset(b->text + k->start, ' ', k->len); /* no half-decoded block: no word at all */
    return rc;
  }
  k->ready = 1;
  return 0;
}

size_t ds_block_at(const ds_body_t *b, size_t at) {
  size_t lo = 0, hi = b->nblocks; /* the last block starting at or before `at` */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->blocks[mid].start <= at) lo = mid;
    else hi = mid;
  }
  return lo;
}

int ds_decode(ds_codec_t *c, const char *data, size_t len, arena_t *a, doc_t *d, err_t *err) {
  ds_body_t b;
  int rc = ds_open(c, data, len, a, d, &b, err);
  for (size_t i = 0; !rc && i < b.nblocks; i++) rc = ds_block(c, &b, i, err);
  if (rc) memset(d, 0, sizeof *d);
  else d->body = b.text;
  return rc;
}
