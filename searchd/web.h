/* web.h: the web page the daemon serves at "/" (SPEC.md "HTTP"): its files
 * under searchd/web/, compiled into the daemon as byte arrays by
 * searchd/embed.cmake (web_assets.c, generated at build time), so nothing
 * is read from disk at run time and nothing comes from another host.
 *
 * index.html is served at "/" and at "/index.html"; app.js and app.css at
 * their names.  The data is static and lives as long as the program.
 */
#ifndef SIFT_SEARCHD_WEB_H
#define SIFT_SEARCHD_WEB_H

#include <stddef.h>

typedef struct web_asset {
  const char *path; /* "/index.html" */
  const char *content_type;
  const unsigned char *data;
  size_t len;
} web_asset_t;

/* Ends with an entry whose path is NULL. */
extern const web_asset_t web_assets[];

#endif
