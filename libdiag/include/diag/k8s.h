/* SPDX-License-Identifier: ISC */
/*
 * k8s.h - cert-manager objects as input: what `kubectl get ... -o json`
 * says about Issuers, ClusterIssuers, Challenges, Orders, Certificates and
 * account key Secrets, turned into names to check (with the Challenge's
 * own type and value), the ACME server and account, and findings about
 * the objects themselves (their conditions and reasons explained).
 *
 * Read from cert-manager's API types (cert-manager.io/v1 and
 * acme.cert-manager.io/v1): a kind List or a single object. Malformed,
 * partial or unknown objects give a finding and are skipped; they never
 * stop the rest.
 */
#ifndef DIAG_K8S_H
#define DIAG_K8S_H

#include <stddef.h>

#include <jansson.h>

#include "diag/acme.h"
#include "diag/doctor.h"
#include "diag/finding.h"

/* One name to check and the object it came from. */
struct k8s_target {
	char *name;             /* "example.com" or "*.example.com" */
	char *object;           /* "Challenge default/www-1-2-3" */
	enum doctor_challenge challenge;  /* DOCTOR_AUTO unless a Challenge says */
	char *token;            /* HTTP-01: spec.token */
	char *key;              /* HTTP-01: the key authorization; DNS-01: the TXT value */
	char *authz_url;        /* spec.authorizationURL, NULL if none */
};

struct k8s_input {
	struct k8s_target *t;
	size_t n, cap;
	/* the ACME server and account, from the first Issuer that names one */
	char *directory;        /* spec.acme.server */
	char *email;            /* spec.acme.email */
	char *kid;              /* status.acme.uri */
	char *issuer;           /* "Issuer ns/name" it came from */
	struct acme_key key;    /* from the Secret spec.acme.privateKeySecretRef names */
	int have_key;
	size_t objects, skipped;
};

/*
 * Read doc (a List or one object). Findings about the objects go to r
 * (ids k8s.input, k8s.issuer, k8s.challenge, k8s.order, k8s.certificate,
 * each tagged with its object); names to check go to in. cluster_ns is the
 * namespace where ClusterIssuers keep their Secrets (NULL: "cert-manager").
 * Returns 0, or -1 when doc is not JSON cert-manager could have written
 * (a reason in err): nothing to check at all.
 */
int diag_k8s_read(const json_t *doc, const char *cluster_ns, struct k8s_input *in,
                  struct diag_report *r, char *err, size_t errlen);
void diag_k8s_free(struct k8s_input *in);

#endif
