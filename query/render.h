/* render.h: response lines shown to a person (sift-query's default output). */
#ifndef SIFT_QUERY_RENDER_H
#define SIFT_QUERY_RENDER_H

#include <stddef.h>
#include <stdio.h>

/* Print the response line for a person; color: ANSI bold for matches.
 * Returns 0 for an ok response, 1 for an error. */
int render_response(FILE *f, const char *line, size_t len, int color);

#endif
