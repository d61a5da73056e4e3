/* SPDX-License-Identifier: ISC */
/*
 * clients.h - the ACME client's own checks, judged by what each client does.
 *
 * Some findings are about a step the ACME client takes before it asks the
 * CA to validate (its SOA walk to find the zone, its propagation check at
 * its resolvers or at every authoritative server): the CA never takes
 * that step, and not every client does. Facts: ../shared/reference/
 * dns01-clients.md (cert-manager 1.21, lego 4 and 5, certbot 2, acme.sh 3).
 */
#ifndef DIAG_CLIENTS_H
#define DIAG_CLIENTS_H

#include "diag/finding.h"

enum {
	DIAG_CLIENT_CERT_MANAGER = 1u << 0,
	DIAG_CLIENT_LEGO = 1u << 1,
	DIAG_CLIENT_CERTBOT = 1u << 2,
	DIAG_CLIENT_ACMESH = 1u << 3,
};
/* Without --client: the strictest judgment, that of the clients whose
 * checks fail most often (cert-manager and lego). */
#define DIAG_CLIENTS_DEFAULT (DIAG_CLIENT_CERT_MANAGER | DIAG_CLIENT_LEGO)

/* "cert-manager", "lego", "certbot", "acme.sh" or "none" (the CA's view
 * alone: 0) into *out. -1 if unknown. */
int diag_client_parse(const char *s, unsigned *out);

/*
 * Judge r's client-side findings (warn or fail) by clients (a set of
 * DIAG_CLIENT_*; 0: none). A step no given client takes becomes a skip
 * that says why; one they take names them (finding->clients, who fails:
 * the client) and adds each one's way round it to the hint. Findings of
 * the CA's own view are left as they are.
 */
void diag_clients_judge(struct diag_report *r, unsigned clients);

#endif
