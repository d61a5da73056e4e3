/* SPDX-License-Identifier: ISC */
/* k8s.c - cert-manager objects (kubectl -o json) as names and findings. */
#define _GNU_SOURCE  /* strptime, timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "diag/account.h"
#include "diag/authz.h"
#include "diag/k8s.h"
#include "diag/keyauth.h"
#include "diag/ratelimit.h"
#include "grow.h"

static const char *str(const json_t *o, const char *path)
{
	/* a dotted path of object members: "spec.acme.server" */
	char key[64];
	const json_t *v = o;
	while (v && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return json_string_value(v);
}

static const json_t *get(const json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

/* "Kind namespace/name" (or "Kind name" for a cluster object). */
static char *object_ref(const json_t *o)
{
	const char *kind = str(o, "kind"), *ns = str(o, "metadata.namespace");
	const char *name = str(o, "metadata.name");
	return diag_asprintf("%s %s%s%s", kind ? kind : "?", ns ? ns : "", ns ? "/" : "",
	                     name ? name : "(no name)");
}

/* A finding about object o, tagged with it. */
static struct diag_finding *about(struct diag_report *r, const json_t *o, enum diag_status st,
                                  const char *id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct diag_finding *about(struct diag_report *r, const json_t *o, enum diag_status st,
                                  const char *id, const char *fmt, ...)
{
	char *ref = object_ref(o);
	va_list ap;
	va_start(ap, fmt);
	char *msg = diag_vasprintf(fmt, ap);
	va_end(ap);
	struct diag_finding *f = diag_add(r, st, id, ref ? ref : "?", "%s", msg ? msg : "");
	if (f && ref && !(f->object = diag_strdup(ref + strcspn(ref, " ") + 1)))
		f = NULL;
	free(ref);
	free(msg);
	return f;
}

/* The condition of type t: its status ("True", "False", "Unknown") and
 * reason and message, or NULL. */
static const json_t *condition(const json_t *o, const char *t)
{
	const json_t *c;
	size_t i;
	json_array_foreach(get(o, "status", "conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		if (type && !strcmp(type, t))
			return c;
	}
	return NULL;
}

/* The ACME error type in a text cert-manager wrote ("... urn:ietf:params:
 * acme:error:unauthorized: ..."), as its short name in buf, or NULL. */
static const char *acme_type_in(const char *text, char *buf, size_t len)
{
	static const char prefix[] = "urn:ietf:params:acme:error:";
	const char *p = text ? strstr(text, prefix) : NULL;
	if (!p)
		return NULL;
	p += sizeof(prefix) - 1;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	if (!n || n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int add_target(struct k8s_input *in, const char *name, const char *object,
                      enum doctor_challenge ch, const char *token, const char *key,
                      const char *authz)
{
	for (size_t i = 0; i < in->n; i++)
		if (!strcasecmp(in->t[i].name, name))
			return 0;  /* already there (a Challenge names it more precisely) */
	if (diag_grow((void **)&in->t, &in->cap, in->n + 1, sizeof(*in->t)))
		return -1;
	struct k8s_target *t = &in->t[in->n];
	*t = (struct k8s_target){
		.name = diag_strdup(name), .object = diag_strdup(object), .challenge = ch,
		.token = diag_strdup(token), .key = diag_strdup(key), .authz_url = diag_strdup(authz),
	};
	if (!t->name || !t->object) {
		free(t->name);
		free(t->object);
		free(t->token);
		free(t->key);
		free(t->authz_url);
		return -1;
	}
	in->n++;
	return 0;
}

/* ---- the objects ---- */

static void read_challenge(const json_t *o, struct k8s_input *in, struct diag_report *r)
{
	const char *name = str(o, "spec.dnsName"), *type = str(o, "spec.type");
	const char *state = str(o, "status.state"), *reason = str(o, "status.reason");
	int wildcard = json_is_true(get(o, "spec", "wildcard"));
	if (!name || !type || (strcasecmp(type, "HTTP-01") && strcasecmp(type, "DNS-01"))) {
		about(r, o, DIAG_WARN, "k8s.input", "skipped: a Challenge without spec.dnsName or with type "
		      "\"%s\" (cert-manager knows HTTP-01 and DNS-01)", type ? type : "none");
		in->skipped++;
		return;
	}
	int dns = !strcasecmp(type, "DNS-01");
	char *ref = object_ref(o), *full = diag_asprintf("%s%s", wildcard ? "*." : "", name);
	if (ref && full)
		add_target(in, full, ref + strcspn(ref, " ") + 1, dns ? DOCTOR_DNS01 : DOCTOR_HTTP01,
		           dns ? NULL : str(o, "spec.token"), str(o, "spec.key"),
		           str(o, "spec.authorizationURL"));
	int bad = state && (!strcmp(state, "invalid") || !strcmp(state, "errored") ||
	                    !strcmp(state, "expired"));
	struct diag_finding *f = about(r, o, bad ? DIAG_FAIL : DIAG_OK, "k8s.challenge",
	                               "%s for %s: %s%s%s", type, full ? full : name,
	                               state && *state ? state : "no state yet", reason ? ": " : "",
	                               reason ? reason : "");
	char tbuf[64];
	const char *hint = diag_acme_error_hint(acme_type_in(reason, tbuf, sizeof(tbuf)), reason);
	if (f && bad)
		diag_set_hint(f, "%s", hint ? hint : "cert-manager retries the Order: fix what the reason "
		              "names (the checks of this name below show it), then let it retry or delete "
		              "the Challenge.");
	diag_evidence(f, "state", diag_json_str(state));
	diag_evidence(f, "authorizationURL", diag_json_str(str(o, "spec.authorizationURL")));
	free(ref);
	free(full);
}

/* Names from spec.dnsNames (and spec.commonName) of an Order or Certificate. */
static void names_of(const json_t *o, struct k8s_input *in)
{
	char *ref = object_ref(o);
	const json_t *v;
	size_t i;
	if (!ref)
		return;
	json_array_foreach(get(o, "spec", "dnsNames"), i, v)
		if (json_string_value(v))
			add_target(in, json_string_value(v), ref + strcspn(ref, " ") + 1, DOCTOR_AUTO, NULL,
			           NULL, NULL);
	if (str(o, "spec.commonName"))
		add_target(in, str(o, "spec.commonName"), ref + strcspn(ref, " ") + 1, DOCTOR_AUTO, NULL,
		           NULL, NULL);
	free(ref);
}

static void read_order(const json_t *o, struct k8s_input *in, struct diag_report *r)
{
	names_of(o, in);
	const char *state = str(o, "status.state"), *reason = str(o, "status.reason");
	int bad = state && (!strcmp(state, "invalid") || !strcmp(state, "errored") ||
	                    !strcmp(state, "expired"));
	struct diag_finding *f = about(r, o, bad ? DIAG_FAIL : DIAG_OK, "k8s.order", "Order %s%s%s",
	                               state && *state ? state : "without a state yet",
	                               reason ? ": " : "", reason ? reason : "");
	char tbuf[64];
	const char *hint = diag_acme_error_hint(acme_type_in(reason, tbuf, sizeof(tbuf)), reason);
	if (f && bad)
		diag_set_hint(f, "%s", hint ? hint : "See the Challenges of this Order and the checks of "
		              "its names.");
	diag_evidence(f, "url", diag_json_str(str(o, "status.url")));
}

static void read_certificate(const json_t *o, struct k8s_input *in, struct diag_report *r)
{
	names_of(o, in);
	const json_t *ready = condition(o, "Ready");
	const char *st = json_string_value(json_object_get(ready, "status"));
	const char *reason = json_string_value(json_object_get(ready, "reason"));
	const char *msg = json_string_value(json_object_get(ready, "message"));
	json_int_t failed = json_integer_value(get(o, "status", "failedIssuanceAttempts"));
	int ok = st && !strcmp(st, "True");
	struct diag_finding *f = about(r, o, ok ? DIAG_OK : failed ? DIAG_FAIL : DIAG_WARN,
	                               "k8s.certificate", "Ready %s%s%s%s", st ? st : "unknown",
	                               reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
	if (f && msg)
		diag_set_detail(f, "%s", msg);
	if (f && failed) {
		/* cert-manager backs off 1 h x 2^(n-1) after failed issuances */
		diag_set_hint(f, "%lld failed issuance attempt%s: cert-manager waits %lld h before the next; "
		              "fix what the checks below show, then `cmctl renew` to retry at once.",
		              (long long)failed, failed == 1 ? "" : "s",
		              failed > 10 ? 512LL : (1LL << (failed - 1)));
	}
	diag_evidence(f, "failedIssuanceAttempts", json_integer(failed));
	diag_evidence(f, "notAfter", diag_json_str(str(o, "status.notAfter")));
	diag_evidence(f, "renewalTime", diag_json_str(str(o, "status.renewalTime")));
}

/* Standard base64 (Secret data) into a NUL-terminated buffer. */
static char *b64_std(const char *s, size_t *len)
{
	size_t n = strlen(s);
	if (n % 4)
		return NULL;
	unsigned char *out = malloc(n / 4 * 3 + 1);
	int got = out ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : -1;
	if (got < 0) {
		free(out);
		return NULL;
	}
	while (n && s[n - 1] == '=') {
		got--;
		n--;
	}
	out[got] = '\0';
	*len = (size_t)got;
	return (char *)out;
}

/* The account key: the Secret the first usable Issuer names. */
static void issuer_key(const json_t *issuer, const json_t *items, const char *cluster_ns,
                       struct k8s_input *in, struct diag_report *r)
{
	const char *secret = str(issuer, "spec.acme.privateKeySecretRef.name");
	const char *ns = !strcmp(str(issuer, "kind"), "ClusterIssuer") ? cluster_ns
	               : str(issuer, "metadata.namespace");
	const json_t *o;
	size_t i;
	json_array_foreach(items, i, o) {
		if (!secret || !ns || strcmp(str(o, "kind") ? str(o, "kind") : "", "Secret") ||
		    strcmp(str(o, "metadata.name") ? str(o, "metadata.name") : "", secret) ||
		    strcmp(str(o, "metadata.namespace") ? str(o, "metadata.namespace") : "", ns))
			continue;
		/* "tls.key" has a dot: not a path for str() */
		const char *data = json_string_value(json_object_get(json_object_get(o, "data"), "tls.key"));
		size_t len = 0;
		char *pem = data ? b64_std(data, &len) : NULL;
		char err[200];
		if (!pem || acme_key_from_pem(pem, len, &in->key, err, sizeof(err))) {
			about(r, o, DIAG_WARN, "k8s.input", "the account key Secret has no usable tls.key (%s): "
			      "the account checks do not run", pem ? err : "not base64");
		} else {
			in->have_key = 1;
			about(r, o, DIAG_OK, "k8s.input", "account key of %s read (%s)", in->issuer, in->key.desc);
		}
		free(pem);
		return;
	}
}

static void read_issuer(const json_t *o, const json_t *items, const char *cluster_ns,
                        struct k8s_input *in, struct diag_report *r)
{
	const char *server = str(o, "spec.acme.server"), *email = str(o, "spec.acme.email");
	const json_t *ready = condition(o, "Ready");
	const char *st = json_string_value(json_object_get(ready, "status"));
	const char *msg = json_string_value(json_object_get(ready, "message"));
	if (!server) {
		about(r, o, DIAG_SKIP, "k8s.issuer", "not an ACME issuer: nothing to check");
		return;
	}
	int ok = st && !strcmp(st, "True");
	struct diag_finding *f = about(r, o, ok ? DIAG_OK : DIAG_FAIL, "k8s.issuer", "ACME server %s, "
	                               "Ready %s%s%s", server, st ? st : "unknown", msg ? ": " : "",
	                               msg ? msg : "");
	char why[300];
	if (f && !ok && email && diag_contact_lint(email[0] ? email : "", why, sizeof(why)) != DIAG_OK &&
	    strncmp(email, "mailto:", 7)) {
		char *mailto = diag_asprintf("mailto:%s", email);
		if (mailto && diag_contact_lint(mailto, why, sizeof(why)) != DIAG_OK)
			diag_set_hint(f, "spec.acme.email %s is refused by Let's Encrypt: %s. Use an address "
			              "under a domain you receive mail for.", email, why);
		free(mailto);
	}
	if (f && !ok && !f->hint && msg && strstr(msg, "already exists"))
		diag_set_hint(f, "A Secret of that name is left from an earlier Issuer (a stale account "
		              "key): delete it, or point privateKeySecretRef at a new name, so cert-manager "
		              "registers anew.");
	if (f && !ok && !f->hint)
		diag_set_hint(f, "See the Issuer's Ready message; the account checks below say what the CA "
		              "thinks of the account.");
	if (in->directory)
		return;  /* the first ACME issuer is the run's */
	in->directory = diag_strdup(server);
	in->email = diag_strdup(email);
	in->kid = diag_strdup(str(o, "status.acme.uri"));
	in->issuer = object_ref(o);
	issuer_key(o, items, cluster_ns, in, r);
}

int diag_k8s_read(const json_t *doc, const char *cluster_ns, struct k8s_input *in,
                  struct diag_report *r, char *err, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	const char *kind = str(doc, "kind");
	json_t *one = NULL;
	const json_t *items = json_object_get(doc, "items");
	if (!json_is_object(doc) || (!json_is_array(items) && !kind)) {
		snprintf(err, errlen, "not kubectl output: a JSON object with kind (a List of items, or one object)");
		return -1;
	}
	if (!json_is_array(items) && !(items = one = json_pack("[O]", doc))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cluster_ns = cluster_ns ? cluster_ns : "cert-manager";
	const json_t *o;
	size_t i;
	/* Issuers first: the key and the server are needed for the rest. */
	json_array_foreach(items, i, o) {
		const char *k = str(o, "kind");
		if (k && (!strcmp(k, "Issuer") || !strcmp(k, "ClusterIssuer")))
			read_issuer(o, items, cluster_ns, in, r);
	}
	/* Challenges next: a name they give carries its type and value, and
	 * the same name from an Order or a Certificate is not added again. */
	json_array_foreach(items, i, o) {
		const char *k = str(o, "kind");
		if (k && !strcmp(k, "Challenge"))
			read_challenge(o, in, r);
	}
	json_array_foreach(items, i, o) {
		const char *k = str(o, "kind");
		in->objects++;
		if (!json_is_object(o) || !k) {
			diag_add(r, DIAG_WARN, "k8s.input", "item", "skipped: item %zu is not an object with a kind", i);
			in->skipped++;
		} else if (!strcmp(k, "Challenge")) {
			continue;
		} else if (!strcmp(k, "Order")) {
			read_order(o, in, r);
		} else if (!strcmp(k, "Certificate")) {
			read_certificate(o, in, r);
		} else if (strcmp(k, "Issuer") && strcmp(k, "ClusterIssuer") && strcmp(k, "Secret") &&
		           strcmp(k, "CertificateRequest")) {
			about(r, o, DIAG_SKIP, "k8s.input", "skipped: acme-doctor does not read %s objects", k);
			in->skipped++;
		}
	}
	json_decref(one);
	return 0;
}

void diag_k8s_free(struct k8s_input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->t[i].name);
		free(in->t[i].object);
		free(in->t[i].token);
		free(in->t[i].key);
		free(in->t[i].authz_url);
	}
	free(in->t);
	free(in->directory);
	free(in->email);
	free(in->kid);
	free(in->issuer);
	if (in->have_key)
		acme_key_free(&in->key);
	memset(in, 0, sizeof(*in));
}

/* ---- rate-limit evidence ---- */

/* "Issuer ns/name" or "ClusterIssuer name": the account as the objects
 * know it (an Issuer has one ACME account). */
static void k8s_issuer_ref(const json_t *o, char *out, size_t len)
{
	const char *kind = str(o, "spec.issuerRef.kind"), *name = str(o, "spec.issuerRef.name");
	const char *ns = str(o, "metadata.namespace");
	int cluster = kind && !strcmp(kind, "ClusterIssuer");
	snprintf(out, len, "%s %s%s%s", kind ? kind : "Issuer", cluster || !ns ? "" : ns,
	         cluster || !ns ? "" : "/", name ? name : "?");
}

/* A base64 PEM from a field (CertificateRequest status.certificate, a
 * Secret's tls.crt) as a certificate. */
static void k8s_cert(struct ratelimit_evidence *ev, const char *b64, const char *account,
                     const char *where, size_t *certs)
{
	size_t n = b64 ? strlen(b64) : 0;
	if (!n || n > 4 * 1024 * 1024)
		return;
	unsigned char *pem = malloc(n * 3 / 4 + 3);
	long len = pem ? diag_b64url_decode(b64, n, pem) : -1;
	if (len > 0)
		ratelimit_add_cert_pem(ev, (const char *)pem, (size_t)len, "", account, where, certs);
	free(pem);
}

/* A rateLimited answer cert-manager wrote into a reason or message. */
static void k8s_problem(struct ratelimit_evidence *ev, const char *text, int64_t at,
                        const char *account, const char *where, size_t *problems)
{
	if (!text || !strstr(text, "rateLimited"))
		return;
	const char *d = strstr(text, "rateLimited");
	d += strlen("rateLimited");
	while (*d == ':' || *d == ' ')
		d++;
	if (!ratelimit_add_problem(ev, at, "", account, "urn:ietf:params:acme:error:rateLimited", d, 429,
	                           -1, where))
		(*problems)++;
}

int diag_k8s_ratelimit(const json_t *doc, struct ratelimit_evidence *ev, struct diag_report *r,
                       char *err, size_t errlen)
{
	const json_t *items = json_object_get(doc, "items");
	json_t *one = NULL;
	if (!json_is_object(doc) || (!json_is_array(items) && !str(doc, "kind"))) {
		snprintf(err, errlen, "not kubectl output: a JSON object with kind (a List of items, or one object)");
		return -1;
	}
	if (!json_is_array(items))
		items = one = json_pack("[O]", doc);
	size_t i, certs = 0, events = 0, problems = 0, objects = 0;
	const json_t *o;
	json_array_foreach(items, i, o) {
		const char *k = str(o, "kind");
		char *ref = object_ref(o), acct[300];
		k8s_issuer_ref(o, acct, sizeof(acct));
		int64_t created = ratelimit_rfc3339(str(o, "metadata.creationTimestamp"));
		const char *state = str(o, "status.state");
		objects++;
		if (!k || !ref) {
			free(ref);
			continue;
		}
		if (!strcmp(k, "CertificateRequest")) {
			k8s_cert(ev, str(o, "status.certificate"), acct, ref, &certs);
			const json_t *c = condition(o, "Ready");
			k8s_problem(ev, json_string_value(json_object_get(c, "message")),
			            ratelimit_rfc3339(json_string_value(json_object_get(c, "lastTransitionTime"))), acct, ref,
			            &problems);
		} else if (!strcmp(k, "Secret") && str(o, "type") && !strcmp(str(o, "type"), "kubernetes.io/tls")) {
			k8s_cert(ev, json_string_value(json_object_get(json_object_get(o, "data"), "tls.crt")), "", ref,
			         &certs);
		} else if (!strcmp(k, "Order") && created) {
			char set[4096] = "";
			const json_t *names = get(o, "spec", "dnsNames"), *v;
			size_t m;
			const char *sorted[100];
			size_t ns = 0;
			json_array_foreach(names, m, v)
				if (json_string_value(v) && ns < 100)
					sorted[ns++] = json_string_value(v);
			for (size_t a = 1; a < ns; a++)  /* the exact set: sorted */
				for (size_t b = a; b > 0 && strcmp(sorted[b - 1], sorted[b]) > 0; b--) {
					const char *t = sorted[b];
					sorted[b] = sorted[b - 1];
					sorted[b - 1] = t;
				}
			for (size_t a = 0; a < ns; a++)
				if (!a || strcmp(sorted[a], sorted[a - 1]))
					snprintf(set + strlen(set), sizeof(set) - strlen(set), "%s%s", *set ? "," : "", sorted[a]);
			events += !ratelimit_add_event(ev, RL_EV_ORDER, created, str(o, "status.url"), acct, set,
			                               str(o, "status.url") ? str(o, "status.url") : ref, ref,
			                               str(o, "spec.replaces"));
			int64_t failed = ratelimit_rfc3339(str(o, "status.failureTime"));
			k8s_problem(ev, str(o, "status.reason"), failed ? failed : created, acct, ref, &problems);
		} else if (!strcmp(k, "Challenge") && state && (!strcmp(state, "invalid") || !strcmp(state, "valid"))) {
			char name[300];
			snprintf(name, sizeof(name), "%s%s", json_is_true(get(o, "spec", "wildcard")) ? "*." : "",
			         str(o, "spec.dnsName") ? str(o, "spec.dnsName") : "?");
			events += !ratelimit_add_event(ev, strcmp(state, "valid") ? RL_EV_AUTHZ_FAILED
			                               : RL_EV_AUTHZ_VALID, created, str(o, "spec.url"), acct, name,
			                               str(o, "spec.url") ? str(o, "spec.url") : ref, ref, NULL);
		} else if (!strcmp(k, "Certificate")) {
			const json_t *c = condition(o, "Issuing");
			k8s_problem(ev, json_string_value(json_object_get(c, "message")),
			            ratelimit_rfc3339(json_string_value(json_object_get(c, "lastTransitionTime"))), acct, ref,
			            &problems);
		}
		free(ref);
	}
	json_decref(one);
	ev->clients |= 8;
	struct diag_finding *f = diag_add(r, DIAG_OK, "ratelimit.source", "cert-manager", "read %zu objects: "
	                                  "%zu certificates, %zu orders and validations, %zu rate-limit "
	                                  "answers", objects, certs, events, problems);
	diag_evidence(f, "objects", json_integer((json_int_t)objects));
	return 0;
}
