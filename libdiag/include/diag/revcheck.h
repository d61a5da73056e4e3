/* SPDX-License-Identifier: ISC */
/*
 * revcheck.h - is a certificate revoked, or on a CA's incident list?
 *
 * Certificates come from files, directories, Kubernetes Secrets and served
 * chains; serials from plain lists. Each certificate is checked against
 * its CA's CRL (found through its CRL distribution point, or given), whose
 * signature, issuer, scope (issuing distribution point) and freshness are
 * checked first: a CRL that does not verify is an error, never "not
 * revoked". Where the certificate names an OCSP responder it is asked too
 * (signed response, nonce). A published list of serials (an incident) is
 * read once, whatever its size, against every serial given.
 *
 * Findings: cert.revocation per certificate, cert.revocation.crl per CRL,
 * cert.revocation.ocsp per OCSP answer, cert.incident per serial against a
 * list (cert.incident.list for the list itself), cert.input for input
 * that is not a certificate, cert.issuer when a certificate's issuer is
 * not found, revcheck.run when the run could not finish.
 */
#ifndef DIAG_REVCHECK_H
#define DIAG_REVCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diag/dns.h"
#include "diag/finding.h"
#include "diag/probe.h"

#define REVCHECK_MAX_CRLS 256     /* distinct CRLs fetched in a run */
#define REVCHECK_MAX_TARGETS 100000  /* certificates and serials checked in a run */

/* Everything is copied or read when the probe starts. */
struct revcheck_opts {
	const char *const *paths;       /* certificate files and directories */
	size_t npaths;
	const json_t *k8s;              /* kubectl get secrets -o json; NULL: none */
	const char *const *hosts;       /* HOST or HOST:PORT whose served chain is checked */
	size_t nhosts;
	const char *const *crls;        /* CRLs to use instead of the distribution points: files or URLs */
	size_t ncrls;
	const char *const *issuers;     /* issuer certificate files */
	size_t nissuers;
	const char *serials_path;       /* a published list to match; NULL: none */
	const char *list_path;          /* serials to check, one a line; NULL: none */
	const char *cache_dir;          /* CRLs kept there until their nextUpdate; NULL: none */
	const char *ca_bundle;          /* extra trust for https CRL, OCSP, AIA URLs */
	int family;                     /* for --host: 0 both, 4, 6 */
	const struct diag_server *ns;   /* for --host names */
	size_t nns;
	int timeout_ms;                 /* per connection; a CRL download gets four times it */
	int64_t now;                    /* seconds since the epoch; 0: the clock */
};

struct diag_probe *diag_revcheck_start(struct diag_loop *loop, const struct revcheck_opts *o,
                                       struct diag_report *r, diag_done_cb done, void *arg);
/* On a loop of its own, to the end. 0, or -1 (a revcheck.run error finding says why). */
int diag_revcheck_run(const struct revcheck_opts *o, struct diag_report *r);

#endif
