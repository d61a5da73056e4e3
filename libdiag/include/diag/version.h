/* SPDX-License-Identifier: ISC */
/* version.h - the acme-diag version (the Makefile passes -DDIAG_VERSION). */
#ifndef DIAG_VERSION_H
#define DIAG_VERSION_H

#ifndef DIAG_VERSION
#define DIAG_VERSION "0.1.0"
#endif

#endif
