/* render.h: response lines shown to a person (sift-query's default output). */
#ifndef SIFT_QUERY_RENDER_H
#define SIFT_QUERY_RENDER_H

#include <stddef.h>
#include <stdio.h>

/* Print the response line for a person; color: ANSI bold for matches.
 * Returns render_status() of the line. */
int render_response(FILE *f, const char *line, size_t len, int color);
/* A TIMELINE response: a bar per period scaled to width columns, then each
 * outlet's first article; with tsv, tab-separated lines "date count all
 * outlets" under a header instead.  Returns as render_response. */
int render_timeline(FILE *f, const char *line, size_t len, int width, int tsv);
/* The width of the terminal on fd (COLUMNS, else 80 when unknown). */
int render_width(int fd);
/* sift-query's exit status for one response line: 0 when it found
 * something (any ok answer but a SEARCH or TIMELINE total or a COUNT of 0),
 * 1 when it found nothing, 2 for an error. */
int render_status(const char *line, size_t len);

#endif
