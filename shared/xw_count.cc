/* xw_count.cc: counting matches as sets of docids, for the wrapper's
 * searches (see xw_int.h for the module).
 *
 * Exact totals and facets need every match; Xapian's matcher finds them by
 * running the whole weighted match to the end.  For a query of terms joined
 * by AND, OR, NOT, FILTER and SYNONYM the same set comes from the posting
 * lists alone, as a bitmap over docids: a term's postings are set, AND
 * intersects (a small set probes a long list with skip_to instead of
 * walking it), OR unites, AND_NOT removes.  Phrases, wildcards and value
 * ranges are left to the matcher.
 */
#include "xw_int.h"

#include <algorithm>

bool xw_countable(const Xapian::Query &q) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return true;
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_SCALE_WEIGHT:
      for (size_t i = 0; i < q.get_num_subqueries(); i++)
        if (!xw_countable(q.get_subquery(i))) return false;
      return q.get_num_subqueries() > 0;
    default:
      return false;
  }
}

/* Is it worth it?  Only where the ranking match can stop early, which is
 * when its weighted part is an OR: Xapian then skips documents that cannot
 * reach the top (measured on the kit: OR of 3 common words 2.7 -> 1.3 ms).
 * An AND has to step through its rarest list either way, so counting it
 * apart would only add work. */
bool xw_prunes(const Xapian::Query &q) {
  switch (q.get_type()) {
    case Xapian::Query::OP_OR:
      return true;
    case Xapian::Query::OP_SCALE_WEIGHT:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE:
      return xw_prunes(q.get_subquery(0));
    default:
      return false;
  }
}

static void xw_bits_set(xw_bits &b, Xapian::docid d) {
  if (d / 64 < b.size()) b[d / 64] |= (uint64_t)1 << (d % 64);
}

size_t xw_bits_count(const xw_bits &b) {
  size_t n = 0;
  for (uint64_t w : b) n += (size_t)__builtin_popcountll(w);
  return n;
}

static void xw_bits_add_term(const xw_db &x, const std::string &term, xw_bits &b) {
  xw_each_posting(x, term, [&](Xapian::docid d) { xw_bits_set(b, d); });
}

/* b &= the postings of term: walk the list, or, when b holds far fewer
 * documents than the list, probe it with skip_to. */
static void xw_bits_and_term(const xw_db &x, const std::string &term, xw_bits &b) {
  const Xapian::Database &db = x.db;
  size_t have = xw_bits_count(b);
  if (have == 0) return;
  if ((uint64_t)have * 16 < db.get_termfreq(term)) {
    auto p = db.postlist_begin(term), end = db.postlist_end(term);
    xw_bits keep(b.size(), 0);
    xw_bits_each(b, [&](Xapian::docid d) {
      if (p == end) return;
      p.skip_to(d);
      if (p != end && *p == d) xw_bits_set(keep, d);
    });
    b.swap(keep);
    return;
  }
  xw_bits t(b.size(), 0);
  xw_bits_add_term(x, term, t);
  for (size_t i = 0; i < b.size(); i++) b[i] &= t[i];
}

static std::string xw_leaf_term(const Xapian::Query &q) {
  return q.get_type() == Xapian::Query::LEAF_TERM ? *q.get_terms_begin() : std::string();
}

/* out (zeroed, sized for the last docid) gets the documents q matches;
 * q must be xw_countable. */
void xw_bits_eval(const xw_db &x, const Xapian::Query &q, xw_bits &out) {
  const Xapian::Database &db = x.db;
  size_t n = q.get_num_subqueries();
  switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
    case Xapian::Query::LEAF_MATCH_ALL:
      xw_bits_add_term(x, xw_leaf_term(q), out);
      return;
    case Xapian::Query::LEAF_MATCH_NOTHING:
      return;
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_SYNONYM:
      for (size_t i = 0; i < n; i++) {
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() == Xapian::Query::LEAF_TERM) {
          xw_bits_add_term(x, xw_leaf_term(sub), out);
        } else {
          xw_bits t(out.size(), 0);
          xw_bits_eval(x, sub, t);
          for (size_t k = 0; k < out.size(); k++) out[k] |= t[k];
        }
      }
      return;
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER: {
      /* Start from the rarest term (or the first subquery when none is a
       * term), so probing can take over early. */
      size_t first = 0;
      Xapian::doccount best = 0;
      bool any_term = false;
      for (size_t i = 0; i < n; i++) {
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() != Xapian::Query::LEAF_TERM) continue;
        Xapian::doccount tf = db.get_termfreq(xw_leaf_term(sub));
        if (!any_term || tf < best) first = i, best = tf, any_term = true;
      }
      xw_bits_eval(x, q.get_subquery(first), out);
      for (size_t i = 0; i < n; i++) {
        if (i == first) continue;
        Xapian::Query sub = q.get_subquery(i);
        if (sub.get_type() == Xapian::Query::LEAF_TERM) {
          xw_bits_and_term(x, xw_leaf_term(sub), out);
        } else {
          xw_bits t(out.size(), 0);
          xw_bits_eval(x, sub, t);
          for (size_t k = 0; k < out.size(); k++) out[k] &= t[k];
        }
      }
      return;
    }
    case Xapian::Query::OP_AND_NOT: {
      xw_bits_eval(x, q.get_subquery(0), out);
      xw_bits t(out.size(), 0);
      for (size_t i = 1; i < n; i++) xw_bits_eval(x, q.get_subquery(i), t);
      for (size_t k = 0; k < out.size(); k++) out[k] &= ~t[k];
      return;
    }
    default: /* AND_MAYBE and SCALE_WEIGHT match what their first subquery does */
      xw_bits_eval(x, q.get_subquery(0), out);
      return;
  }
}
