/* SPDX-License-Identifier: ISC */
/*
 * policy.h - will the CA accept this name as an identifier at all?
 *
 * Checked before any probe: a name the CA refuses when the order is made
 * fails there, whatever DNS and HTTP say, and probing it only misleads
 * (a name of 240 characters has an _acme-challenge name too long to ask
 * for, which would look like a resolver fault).
 *
 * The letsencrypt profile applies Boulder's rules (policy/pa.go validDomain)
 * in its order and with its wording; the pebble and rfc8555 profiles apply
 * what holds for any CA (DNS length limits, an IP address is not a DNS
 * identifier, the wildcard form) and what Pebble checks.
 */
#ifndef DIAG_POLICY_H
#define DIAG_POLICY_H

#include "diag/finding.h"
#include "diag/http01.h"

/*
 * Check name (lower case, no trailing dot; wildcard: it was "*." + name)
 * for a certificate by method ("dns-01", "http-01", "tls-alpn-01"; NULL:
 * not known). Adds one acme.identifier finding to r: fail when the CA
 * refuses the name (the summary quotes the CA's problem detail), skip when
 * the public-suffix rule is left to the CA in use (a special-use name such
 * as .test, which only a private CA issues for), else ok. Returns 1 when
 * the CA refuses the name, 0 otherwise, -1 out of memory.
 */
int diag_identifier_check(struct diag_report *r, const char *name, int wildcard,
                          enum http01_profile profile, const char *method);

#endif
