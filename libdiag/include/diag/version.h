/* SPDX-License-Identifier: ISC */
/*
 * version.h - the acme-diag version and the versions of the libraries
 * linked. The Makefile passes -DDIAG_VERSION (scripts/version.sh: git
 * describe in a checkout, the VERSION file in a release tarball).
 */
#ifndef DIAG_VERSION_H
#define DIAG_VERSION_H

#include <stddef.h>

#ifndef DIAG_VERSION
#define DIAG_VERSION "0.1.0"
#endif

/*
 * "c-ares 1.18.1, ldns 1.8.3, libcurl 7.88.1, OpenSSL 3.0.19, jansson 2.14":
 * the versions of the libraries as loaded at run time (what a bug report
 * needs; they may differ from those compiled against). Written to buf as
 * snprintf() does; returns snprintf()'s value.
 */
int diag_library_versions(char *buf, size_t len);

#endif
