/* render.h: response lines shown to a person (sift-query's default output). */
#ifndef SIFT_QUERY_RENDER_H
#define SIFT_QUERY_RENDER_H

#include <stddef.h>
#include <stdio.h>

/* Print the response line for a person; color: ANSI bold for matches.
 * Returns 0 for an ok response, 1 for an error. */
int render_response(FILE *f, const char *line, size_t len, int color);
/* A TIMELINE response: a bar per period scaled to width columns, then each
 * outlet's first article; with tsv, tab-separated lines "date count all
 * outlets" under a header instead.  Returns as render_response. */
int render_timeline(FILE *f, const char *line, size_t len, int width, int tsv);
/* The width of the terminal on fd (COLUMNS, else 80 when unknown). */
int render_width(int fd);

#endif
