/* SPDX-License-Identifier: ISC */
/*
 * psl.h - registered domains and public suffixes, from the Public Suffix
 * List as libpsl reads it (the newer of its built-in copy and Debian's
 * publicsuffix package), never from a hand-made list.
 *
 * Two readings of the list, because the CA uses two:
 *   - the registered domain Let's Encrypt counts certificates against
 *     (Boulder's ratelimits: publicsuffix-go Domain(), the whole list with
 *     its private section, an unknown TLD taken as a suffix of its own);
 *   - the ICANN suffix its identifier policy requires (Boulder's
 *     iana.ExtractSuffix: the ICANN section only, no default rule).
 * Names are ASCII (A-labels), compared without case; a trailing dot is
 * ignored.
 */
#ifndef DIAG_PSL_H
#define DIAG_PSL_H

#include <stddef.h>

/*
 * The registered domain of name as Let's Encrypt counts "certificates per
 * registered domain": the public suffix (private entries included:
 * github.io, herokuapp.com) plus one label; a name that is itself a
 * public suffix counts as itself; an IPv4 address is itself and an IPv6
 * address its /64 ("2001:db8::/64"). Written lower case to out. Returns 0,
 * or -1 when name is empty or does not fit.
 */
int diag_registered_domain(const char *name, char *out, size_t len);

/*
 * The longest suffix of name that the ICANN section of the list names
 * (explicit rules only: "co.uk", "com"; never the implicit "*" rule), into
 * out. Returns 0, or -1 when there is none: the name "does not end with a
 * valid public suffix (TLD)" in Boulder's words.
 */
int diag_icann_suffix(const char *name, char *out, size_t len);

/*
 * Is name under a special-use or private-use domain that no public CA
 * issues for: RFC 6761 (.test, .localhost, .invalid, .example), .local,
 * .onion (RFC 7686), home.arpa (RFC 8375), .alt, .internal and the usual
 * private LAN suffixes (.lan, .home, .corp, ...), or a single label?
 */
int diag_special_use_name(const char *name);

/* "libpsl 0.21.2, list 2023-02-09": what a bug report needs. */
void diag_psl_version(char *buf, size_t len);

#endif
