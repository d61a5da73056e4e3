/* SPDX-License-Identifier: ISC */
/*
 * certcheck.c - the served certificate against the renewed file.
 *
 * A probe on the diag loop: the files are read at start; the host's
 * addresses are resolved and each one's chain fetched at once (tlschain);
 * with a directory, the directory and then renewalInfo for the leaf are
 * fetched meanwhile; the judgment comes when both are in.
 */
#define _XOPEN_SOURCE 700  /* strptime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "diag/certcheck.h"
#include "diag/keyauth.h"
#include "diag/render_metrics.h"
#include "fetch.h"
#include "tlschain.h"

struct certcheck_ctx {
	struct diag_probe head;
	struct certcheck_opts o;
	char *host, *hostport, *directory, *ca_bundle;
	char **names;
	size_t nnames;
	int64_t now;
	struct diag_certs file;          /* --cert */
	X509 *file_leaf;                 /* borrowed from file */
	EVP_PKEY *key;                   /* --key */
	struct tls_fetch *tls;
	struct tls_served *served;       /* the fetch's, valid until it is freed */
	size_t nserved;
	int tls_done;
	struct fetch *f;                 /* the directory, then renewalInfo */
	char *ari_url;
	int ari_done;
	int ari_status;                  /* HTTP status, 0: none */
	char *ari_err;
	json_t *ari;                     /* the response body */
	long retry_after;
	char cert_id[300];
	X509 *ari_cert;                  /* borrowed: the certificate asked about */
};

static void judge(struct certcheck_ctx *c);

static void maybe_judge(struct certcheck_ctx *c)
{
	if (c->tls_done && c->ari_done)
		judge(c);
}

/* ---- facts ---- */

int diag_ari_cert_id(X509 *x, char *out, size_t len)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	int al = aki ? ASN1_STRING_length(aki) : 0, sl = ASN1_STRING_length(sn);
	if (al <= 0 || sl <= 0 || al > 64 || sl > 64 || len < 300)
		return -1;
	unsigned char ser[66];
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	size_t n = 0;
	if (d[0] & 0x80)
		ser[n++] = 0;  /* DER keeps a sign octet; so does the CertID */
	memcpy(ser + n, d, (size_t)sl);
	n += (size_t)sl;
	size_t k = diag_b64url(ASN1_STRING_get0_data(aki), (size_t)al, out);
	out[k++] = '.';
	diag_b64url(ser, n, out + k);
	return 0;
}

void diag_ari_default_window(int64_t not_before, int64_t not_after, int64_t *start, int64_t *end)
{
	int64_t validity = not_after + 1 - not_before;
	int64_t offset = validity < 10 * 86400 ? validity / 2 : validity / 3;
	int64_t ideal = not_after - offset, margin = validity / 100;
	*start = ideal - margin;
	*end = ideal + margin;
}

const char *diag_cert_profile(int64_t s)
{
	static const struct { int64_t s; const char *name; } p[] = {
		{90 * 86400, "Let's Encrypt classic profile, 90 days"},
		{64 * 86400, "Let's Encrypt classic profile from 2027-02-10, 64 days"},
		{45 * 86400, "Let's Encrypt tlsserver profile (and classic from 2028-02-16), 45 days"},
		{160 * 3600, "Let's Encrypt shortlived profile, 160 hours"},
		{397 * 86400, "the CA/Browser Forum maximum, 397 days"},
	};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (s >= p[i].s - 3600 && s <= p[i].s + 3600)
			return p[i].name;
	return NULL;
}

static const char *reload_hint(void)
{
	return "Reload the server so that it reads the renewed files: nginx -s reload, systemctl reload "
	       "apache2 (or httpd), haproxy reload (it reads crt files at start only), and for a "
	       "Kubernetes ingress check that it uses the Secret cert-manager renews; certbot can do it "
	       "on every renewal with --deploy-hook 'systemctl reload nginx'.";
}

/* ---- judgments ---- */

static int same_cert(X509 *a, X509 *b)
{
	return a && b && !X509_cmp(a, b);
}

static int64_t rfc3339(const char *s);

static void report_validity(struct certcheck_ctx *c, X509 *x, const char *target)
{
	int64_t nb = diag_asn1_time(X509_get0_notBefore(x)), na = diag_asn1_time(X509_get0_notAfter(x));
	int64_t life = na - nb, left = na - c->now;
	const char *prof = diag_cert_profile(life);
	char until[32];
	diag_time_str(na, until, sizeof(until));
	double days = (double)left / 86400, ldays = (double)life / 86400;
	struct diag_finding *f;
	if (c->now < nb) {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.validity", target, "not valid yet: it starts in %.1f h",
		             (double)(nb - c->now) / 3600);
		diag_set_hint(f, "Check the clock of this host and of the CA (acme-clock); clients refuse it until then.");
	} else if (left <= 0) {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.validity", target, "expired %.1f days ago (%s)", -days, until);
		diag_set_hint(f, "Renew now (certbot renew; cert-manager: kubectl describe certificate for why "
		              "it did not) and reload the server.");
	} else if (left * 3 < life) {
		f = diag_add(c->head.r, DIAG_WARN, "cert.validity", target, "renewal due: %.1f of %.1f days left "
		             "(clients renew with a third of the lifetime left)%s%s", days, ldays,
		             prof ? "; " : "", prof ? prof : "");
		diag_set_hint(f, "A client that renews on time has renewed already: check its timer or "
		              "cron (systemctl list-timers certbot.timer), its logs, and that the renewed "
		              "certificate is deployed.");
	} else {
		f = diag_add(c->head.r, DIAG_OK, "cert.validity", target, "valid until %s, %.1f of %.1f days "
		             "left%s%s", until, days, ldays, prof ? "; " : "", prof ? prof : "");
	}
	diag_evidence(f, "lifetime_s", json_integer((json_int_t)life));
	diag_evidence(f, "remaining_s", json_integer((json_int_t)left));
	diag_evidence(f, "profile", prof ? json_string(prof) : json_null());
	diag_evidence(f, "renew_after", json_integer((json_int_t)(na - life / 3)));
	/* the renewal window: the CA's ARI answer when it is about this
	 * certificate, else the one it suggests by default */
	int64_t ws = 0, we = 0;
	if (c->ari && c->ari_status == 200 && same_cert(c->ari_cert, x)) {
		const json_t *w = json_object_get(c->ari, "suggestedWindow");
		ws = rfc3339(json_string_value(json_object_get(w, "start")));
		we = rfc3339(json_string_value(json_object_get(w, "end")));
	}
	int ari = ws && we > ws;
	if (!ari)
		diag_ari_default_window(nb, na, &ws, &we);
	diag_evidence(f, "not_after_s", json_integer((json_int_t)na));
	diag_evidence(f, "window_start_s", json_integer((json_int_t)ws));
	diag_evidence(f, "window_from", json_string(ari ? "ari" : "default"));
}

static void report_names(struct certcheck_ctx *c, X509 *x, const char *target)
{
	char *missing = diag_strdup("");
	size_t nmiss = 0;
	for (size_t i = 0; missing && i < c->nnames; i++) {
		const char *n = c->names[i];
		int ok = X509_check_ip_asc(x, n, 0) == 1 || X509_check_host(x, n, 0, 0, NULL) == 1;
		if (!ok) {
			char *m = diag_asprintf("%s%s%s", missing, nmiss ? ", " : "", n);
			free(missing);
			missing = m;
			nmiss++;
		}
	}
	ERR_clear_error();
	struct diag_finding *f;
	if (nmiss)
		f = diag_add(c->head.r, DIAG_FAIL, "cert.names", target, "not covered by the certificate: %s",
		             missing ? missing : "?");
	else
		f = diag_add(c->head.r, DIAG_OK, "cert.names", target, "covers %zu name%s: %s%s", c->nnames,
		             c->nnames == 1 ? "" : "s", c->names[0], c->nnames > 1 ? ", ..." : "");
	if (nmiss)
		diag_set_hint(f, "Request a certificate for every name (certbot -d NAME for each; "
		              "cert-manager: spec.dnsNames), or serve a certificate that has them.");
	free(missing);
}

static void report_key(struct certcheck_ctx *c, X509 *x, const char *target)
{
	struct diag_finding *f;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), c->key) == 1) {
		f = diag_add(c->head.r, DIAG_OK, "cert.key", target, "%s matches the certificate", c->o.key_path);
	} else {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.key", target, "%s does not match the certificate: "
		             "private key and certificate do not have matching public keys", c->o.key_path);
		diag_set_hint(f, "The server refuses to start with this pair (nginx: X509_check_private_key:key "
		              "values mismatch). Use the privkey.pem of the same certbot lineage (live/NAME/), or "
		              "the tls.key of the same Secret.");
	}
	ERR_clear_error();
}

/* The chain as served: order, duplicates, a root, what is missing, trust. */
static void report_chain(struct certcheck_ctx *c, const struct tls_served *s, const char *target)
{
	STACK_OF(X509) *ch = s->chain;
	int n = sk_X509_num(ch), dups = 0, disorder = 0, root = 0;
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(ch, i);
		for (int k = 0; k < i; k++)
			dups += !X509_cmp(x, sk_X509_value(ch, k));
		if (i + 1 < n && !diag_cert_issued_by(x, sk_X509_value(ch, i + 1)))
			disorder = 1;
		if (i > 0 && X509_check_issued(x, x) == X509_V_OK)
			root = 1;
	}
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_dup(ch);
	int err = X509_V_ERR_UNSPECIFIED, depth = 0;
	if (st && ctx && untrusted &&
	    (c->ca_bundle ? X509_STORE_load_file(st, c->ca_bundle) : X509_STORE_set_default_paths(st)) == 1 &&
	    X509_STORE_CTX_init(ctx, st, sk_X509_value(ch, 0), untrusted) == 1) {
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)c->now);
		err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
		depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	ERR_clear_error();
	int missing = err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	              err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
	struct diag_finding *f;
	if (missing && n == 1) {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.chain", target, "only the leaf is served: the "
		             "intermediate is missing (cert.pem configured instead of fullchain.pem?)");
		diag_set_hint(f, "Serve the full chain: nginx ssl_certificate /etc/letsencrypt/live/NAME/fullchain.pem; "
		              "Apache 2.4.8+ SSLCertificateFile fullchain.pem; HAProxy a crt file with the chain. "
		              "Browsers often cope; curl, Java, Go and many API clients fail (\"unable to get "
		              "local issuer certificate\").");
	} else if (err != X509_V_OK) {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.chain", target, "the served chain (%d certificate%s) "
		             "does not verify: %s (at depth %d)", n, n == 1 ? "" : "s",
		             X509_verify_cert_error_string(err), depth);
		diag_set_hint(f, missing ? "An intermediate is missing: serve the CA's full chain (fullchain.pem)."
		              : "Serve a certificate chain that leads to a root clients trust (--ca-bundle for a "
		                "private CA).");
	} else if (dups || disorder || root) {
		f = diag_add(c->head.r, DIAG_WARN, "cert.chain", target, "verifies, but%s%s%s", 
		             disorder ? " out of order (each certificate should be followed by its issuer)" : "",
		             dups ? " with duplicates" : "", root ? " with the root included (not needed)" : "");
		diag_set_hint(f, "Serve leaf, then intermediates, without the root: certbot's fullchain.pem is "
		              "that. Strict clients refuse chains out of order.");
	} else {
		f = diag_add(c->head.r, DIAG_OK, "cert.chain", target, "complete and in order: %d certificate%s, "
		             "verified%s", n, n == 1 ? "" : "s", c->ca_bundle ? " against --ca-bundle" : "");
	}
	diag_evidence(f, "length", json_integer(n));
	diag_evidence(f, "verify_error", json_integer(err));
	diag_evidence(f, "duplicates", json_integer(dups));
	diag_evidence(f, "in_order", json_boolean(!disorder));
	diag_evidence(f, "root_included", json_boolean(root));
}

/* What one address served, against the file. */
static void report_served(struct certcheck_ctx *c, const struct tls_served *s)
{
	char target[320];
	snprintf(target, sizeof(target), "%s %s", c->hostport, s->ip);
	if (!s->chain) {
		struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, "cert.served", target, "%s: %s",
		                                  s->ip, s->err);
		diag_set_hint(f, "Nothing to compare: check that the server listens on this address and port "
		              "and speaks TLS.");
		return;
	}
	X509 *leaf = sk_X509_value(s->chain, 0);
	char fp[65], hex[2 * SERIAL_BYTES + 2] = "";
	struct diag_serial k;
	diag_cert_sha256(leaf, fp);
	if (!diag_serial_from_asn1(X509_get0_serialNumber(leaf), &k))
		diag_serial_hex(&k, hex, sizeof(hex));
	struct diag_finding *f;
	if (c->file_leaf && !same_cert(leaf, c->file_leaf)) {
		int64_t snb = diag_asn1_time(X509_get0_notBefore(leaf));
		int64_t fnb = diag_asn1_time(X509_get0_notBefore(c->file_leaf));
		char fhex[2 * SERIAL_BYTES + 2] = "";
		if (!diag_serial_from_asn1(X509_get0_serialNumber(c->file_leaf), &k))
			diag_serial_hex(&k, fhex, sizeof(fhex));
		f = diag_add(c->head.r, fnb >= snb ? DIAG_FAIL : DIAG_WARN, "cert.served", target,
		             fnb >= snb ? "serves serial %s, not the renewed serial %s of %s: the server was not reloaded"
		                        : "serves serial %s, newer than serial %s of %s: is the file the one deployed?",
		             hex, fhex, c->o.cert_path);
		diag_set_hint(f, "%s", fnb >= snb ? reload_hint()
		              : "The server serves a newer certificate than the file: check which files its "
		                "configuration names.");
	} else {
		f = diag_add(c->head.r, DIAG_OK, "cert.served", target, "serves serial %s (%d certificate%s)%s",
		             hex, sk_X509_num(s->chain), sk_X509_num(s->chain) == 1 ? "" : "s",
		             c->file_leaf ? ", the one in the file" : "");
	}
	diag_evidence(f, "certificate", diag_cert_json(leaf));
	diag_evidence(f, "family", json_string(s->family == AF_INET6 ? "ipv6" : "ipv4"));
	report_chain(c, s, target);
}

static void report_consistency(struct certcheck_ctx *c)
{
	size_t with = 0, differ = 0;
	X509 *first = NULL;
	for (size_t i = 0; i < c->nserved; i++) {
		if (!c->served[i].chain)
			continue;
		X509 *x = sk_X509_value(c->served[i].chain, 0);
		if (!first)
			first = x;
		else if (!same_cert(first, x))
			differ++;
		with++;
	}
	if (with < 2)
		return;
	struct diag_finding *f = diag_add(c->head.r, differ ? DIAG_WARN : DIAG_OK, "cert.consistency",
	                                  c->hostport, differ ? "the %zu addresses serve different certificates"
	                                  : "all %zu addresses serve the same certificate", with);
	if (differ)
		diag_set_hint(f, "Each A and AAAA address must reach a server with the renewed certificate: "
		              "an AAAA on another host (an old server, a load balancer not updated) is the usual cause.");
}

/* Distinct certificates to judge on their own: the file's leaf, each served leaf. */
static void report_certs(struct certcheck_ctx *c)
{
	X509 *seen[2 * TLS_MAX_ADDRS + 1];
	const char *where[2 * TLS_MAX_ADDRS + 1];
	char labels[2 * TLS_MAX_ADDRS + 1][320];
	size_t n = 0;
	if (c->file_leaf) {
		seen[n] = c->file_leaf;
		where[n++] = c->o.cert_path;
	}
	for (size_t i = 0; i < c->nserved; i++) {
		if (!c->served[i].chain)
			continue;
		X509 *x = sk_X509_value(c->served[i].chain, 0);
		size_t k = 0;
		while (k < n && !same_cert(seen[k], x))
			k++;
		if (k < n)
			continue;
		snprintf(labels[n], sizeof(labels[n]), "%s %s", c->hostport, c->served[i].ip);
		seen[n] = x;
		where[n] = labels[n];
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		report_validity(c, seen[i], where[i]);
		if (c->nnames)
			report_names(c, seen[i], where[i]);
	}
	if (c->key && n)
		report_key(c, seen[0], where[0]);
}

/* ---- ARI (RFC 9773) ---- */

/* RFC 3339 to seconds: "2026-11-30T12:00:00Z", fractions, offsets. 0: not a time. */
static int64_t rfc3339(const char *s)
{
	struct tm tm = {0};
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!p)
		return 0;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	int64_t t = (int64_t)timegm(&tm), off = 0;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':')
		off = (*p == '-' ? -1 : 1) * (int64_t)(((p[1] - '0') * 10 + p[2] - '0') * 3600 +
		                                       ((p[4] - '0') * 10 + p[5] - '0') * 60);
	else if (strcmp(p, "Z") && strcmp(p, "z"))
		return 0;
	return t - off;
}

static void ari_answer(void *arg, struct fetch_result *res)
{
	struct certcheck_ctx *c = arg;
	char buf[64];
	const char *why = fetch_error(res, buf, sizeof(buf));
	c->f = NULL;
	c->ari_status = (int)res->status;
	c->retry_after = res->retry_after;
	if (why)
		c->ari_err = diag_asprintf("renewalInfo %s: %s", c->ari_url, why);
	else if (res->status == 200 && !(c->ari = json_loadb((const char *)res->body, res->len, 0, NULL)))
		c->ari_err = diag_asprintf("renewalInfo %s: the answer is not JSON", c->ari_url);
	c->ari_done = 1;
	maybe_judge(c);
}

/* The directory and a leaf are known: ask renewalInfo about the leaf. */
static void ari_ask(struct certcheck_ctx *c)
{
	if (c->ari_done || c->f || !c->ari_url || c->cert_id[0])
		return;
	X509 *leaf = c->file_leaf;
	for (size_t i = 0; !leaf && i < c->nserved; i++)
		if (c->served[i].chain)
			leaf = sk_X509_value(c->served[i].chain, 0);
	if (!leaf) {
		if (c->tls_done || !c->o.host) {
			c->ari_err = diag_strdup("no certificate to ask about");
			c->ari_done = 1;
		}
		return;
	}
	c->ari_cert = leaf;
	if (diag_ari_cert_id(leaf, c->cert_id, sizeof(c->cert_id))) {
		c->ari_err = diag_strdup("the certificate has no Authority Key Identifier: no ARI CertID");
		c->ari_done = 1;
		return;
	}
	char *url = diag_asprintf("%s%s%s", c->ari_url,
	                          c->ari_url[strlen(c->ari_url) - 1] == '/' ? "" : "/", c->cert_id);
	free(c->ari_url);
	c->ari_url = url;
	struct fetch_opts fo = { .url = url, .max_body = 64 * 1024, .timeout_ms = c->o.timeout_ms,
	                         .ca_bundle = c->ca_bundle };
	if (!url || !(c->f = fetch_start(c->head.loop, &fo, ari_answer, c))) {
		c->ari_err = diag_strdup("cannot ask renewalInfo (out of memory)");
		c->ari_done = 1;
	}
}

static void dir_answer(void *arg, struct fetch_result *res)
{
	struct certcheck_ctx *c = arg;
	char buf[64];
	const char *why = fetch_error(res, buf, sizeof(buf));
	json_t *d = !why && res->status == 200 ? json_loadb((const char *)res->body, res->len, 0, NULL) : NULL;
	const char *ri = json_string_value(json_object_get(d, "renewalInfo"));
	c->f = NULL;
	if (why || res->status != 200 || !json_is_object(d))
		c->ari_err = why ? diag_asprintf("directory %s: %s", c->directory, why)
		                 : diag_asprintf("directory %s: %s", c->directory, res->status != 200
		                                 ? "not HTTP 200" : "not a JSON object");
	else if (!ri || (strncmp(ri, "https://", 8) && strncmp(ri, "http://", 7)))
		c->ari_status = -1;  /* the CA offers no ARI */
	else
		c->ari_url = diag_strdup(ri);
	json_decref(d);
	if (!c->ari_url)
		c->ari_done = 1;
	ari_ask(c);
	maybe_judge(c);
}

static void report_ari(struct certcheck_ctx *c)
{
	struct diag_report *r = c->head.r;
	struct diag_finding *f;
	const char *target = c->directory;
	if (!c->directory)
		return;
	if (c->ari_status == -1) {
		diag_add(r, DIAG_SKIP, "cert.ari", target, "the CA offers no ACME Renewal Information "
		         "(no renewalInfo in its directory)");
		return;
	}
	if (c->ari_err) {
		f = diag_add(r, DIAG_ERROR, "cert.ari", target, "%s", c->ari_err);
		diag_set_hint(f, "Check the --directory URL (and --ca-bundle for a private CA).");
		return;
	}
	if (c->ari_status != 200) {
		f = diag_add(r, c->ari_status == 404 ? DIAG_WARN : DIAG_ERROR, "cert.ari", c->cert_id,
		             "renewalInfo answered HTTP %d%s", c->ari_status, c->ari_status == 404
		             ? ": the CA does not know this certificate (or its issuer): is it this CA's?" : "");
		diag_evidence(f, "url", diag_json_str(c->ari_url));
		return;
	}
	const json_t *w = json_object_get(c->ari, "suggestedWindow");
	int64_t ws = rfc3339(json_string_value(json_object_get(w, "start")));
	int64_t we = rfc3339(json_string_value(json_object_get(w, "end")));
	const char *expl = json_string_value(json_object_get(c->ari, "explanationURL"));
	char s1[32], s2[32];
	diag_time_str(ws, s1, sizeof(s1));
	diag_time_str(we, s2, sizeof(s2));
	if (!ws || !we || we <= ws) {
		f = diag_add(r, DIAG_WARN, "cert.ari", c->cert_id, "renewalInfo gave no valid suggestedWindow "
		             "(RFC 9773: treat it as no answer)");
	} else if (c->now > we) {
		f = diag_add(r, DIAG_FAIL, "cert.ari", c->cert_id, "renew now: the CA's suggested window "
		             "ended %s, it was moved into the past%s%s", s2, expl ? "; explanation: " : "",
		             expl ? expl : "");
		diag_set_hint(f, "The CA asks for early renewal (an incident, a coming revocation): renew at "
		              "once (certbot renew --force-renewal; cert-manager: cmctl renew) and deploy.");
	} else if (c->now >= ws) {
		f = diag_add(r, DIAG_WARN, "cert.ari", c->cert_id, "inside the CA's renewal window (%s to %s): "
		             "renew now%s%s", s1, s2, expl ? "; explanation: " : "", expl ? expl : "");
		diag_set_hint(f, "A client that polls ARI renews at a random time in the window; check that "
		              "yours supports ARI (certbot 4.1+, lego 4.22+, cert-manager 1.18+) or renew by hand.");
	} else {
		f = diag_add(r, DIAG_OK, "cert.ari", c->cert_id, "the CA suggests renewing between %s and %s%s%s",
		             s1, s2, expl ? "; explanation: " : "", expl ? expl : "");
	}
	diag_evidence(f, "url", diag_json_str(c->ari_url));
	diag_evidence(f, "window_start", ws ? json_string(s1) : json_null());
	diag_evidence(f, "window_end", we ? json_string(s2) : json_null());
	diag_evidence(f, "explanation_url", diag_json_str(expl));
	long ra = c->retry_after;
	diag_evidence(f, "retry_after_s", ra >= 0 ? json_integer(ra) : json_null());
	/* RFC 9773 4.3: clients clamp the polling interval to a minute .. a day */
	diag_evidence(f, "poll_after_s", json_integer(ra < 0 ? 21600 : ra < 60 ? 60 : ra > 86400 ? 86400 : ra));
}

/* ---- the judgment, the probe's life ---- */

static void judge(struct certcheck_ctx *c)
{
	if (c->o.host && !c->nserved) {
		struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, "cert.served", c->hostport,
		                                  "%s: no address to connect to", c->hostport);
		diag_set_hint(f, "Check the name's A and AAAA records (acme-dnscheck), or give an address.");
	}
	for (size_t i = 0; i < c->nserved; i++)
		report_served(c, &c->served[i]);
	report_consistency(c);
	report_certs(c);
	report_ari(c);
	diag_probe_finish(&c->head);
}

static void tls_done(void *arg, struct tls_served *v, size_t n, const char *dns_err)
{
	struct certcheck_ctx *c = arg;
	(void)dns_err;
	c->served = v;
	c->nserved = n;
	c->tls_done = 1;
	ari_ask(c);
	maybe_judge(c);
}

static void certcheck_cancel(struct diag_probe *hp)
{
	struct certcheck_ctx *c = (struct certcheck_ctx *)hp;
	diag_loop_cancel_timers(hp->loop, c);
	fetch_cancel(c->f);
	c->f = NULL;
	tls_fetch_free(c->tls);
	c->tls = NULL;
}

static void certcheck_destroy(struct diag_probe *hp)
{
	struct certcheck_ctx *c = (struct certcheck_ctx *)hp;
	tls_fetch_free(c->tls);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->host);
	free(c->hostport);
	free(c->directory);
	free(c->ca_bundle);
	free(c->ari_url);
	free(c->ari_err);
	json_decref(c->ari);
	diag_certs_free(&c->file);
	EVP_PKEY_free(c->key);
	free(c);
}

static const struct diag_probe_ops certcheck_ops = {
	.name = "certcheck", .cancel = certcheck_cancel, .destroy = certcheck_destroy,
};

/* A private key file: PEM, never a passphrase prompt. */
static EVP_PKEY *read_key(const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") : NULL;
	if (!k) {
		unsigned long e = ERR_peek_last_error();
		snprintf(err, errlen, "%s", !b ? "cannot open it" :
		         ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE ?
		         "no PEM private key in it" :
		         ERR_GET_REASON(e) == PEM_R_BAD_DECRYPT || ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ ?
		         "an encrypted key (give it decrypted)" : "a private key OpenSSL cannot read");
	}
	BIO_free(b);
	ERR_clear_error();
	return k;
}

static int read_files(struct certcheck_ctx *c, const struct certcheck_opts *o)
{
	char err[200];
	if (o->cert_path) {
		long n = diag_certs_add_path(&c->file, o->cert_path, c->head.r);
		if (n < 0)
			return -1;
		if (n > 0)
			c->file_leaf = c->file.v[0].x;
	}
	if (o->key_path && !(c->key = read_key(o->key_path, err, sizeof(err)))) {
		struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, "cert.input", o->key_path, "%s: %s",
		                                  o->key_path, err);
		diag_set_hint(f, "Give the PEM private key the server uses (privkey.pem, tls.key).");
	}
	return 0;
}

static int copy_opts(struct certcheck_ctx *c, const struct certcheck_opts *o)
{
	char host[256], err[160];
	uint16_t port = 443;
	c->o = *o;
	c->now = o->now ? o->now : diag_wall_ms() / 1000;
	if (o->host) {
		if (diag_hostport(o->host, host, sizeof(host), &port, 443, err, sizeof(err)))
			snprintf(host, sizeof(host), "%s", o->host);
		if (!(c->host = diag_strdup(host)) ||
		    !(c->hostport = diag_asprintf(strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port)))
			return -1;
	}
	size_t n = o->nnames ? o->nnames : o->host ? 1 : 0;
	c->names = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; c->names && i < n; i++)
		if (!(c->names[c->nnames++] = diag_strdup(o->nnames ? o->names[i] : c->host)))
			return -1;
	if (!c->names || (o->directory && !(c->directory = diag_strdup(o->directory))) ||
	    (o->ca_bundle && !(c->ca_bundle = diag_strdup(o->ca_bundle))))
		return -1;
	c->o.host = c->host;
	c->o.names = NULL;
	c->o.directory = c->directory;
	c->o.ca_bundle = c->ca_bundle;
	c->o.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	return 0;
}

static void begin(void *arg)
{
	struct certcheck_ctx *c = arg;
	if (!c->o.host)
		c->tls_done = 1;
	if (!c->directory)
		c->ari_done = 1;
	maybe_judge(c);
}

struct diag_probe *diag_certcheck_start(struct diag_loop *loop, const struct certcheck_opts *o,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	struct certcheck_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &certcheck_ops, loop, r, done, arg);
	int bad = copy_opts(c, o) || read_files(c, o);
	if (!bad && c->host) {
		uint16_t port = 443;
		char h[256], err[160];
		diag_hostport(o->host, h, sizeof(h), &port, 443, err, sizeof(err));
		struct tls_opts to = { .host = c->host, .port = port, .family = o->family, .ns = o->ns,
		                       .nns = o->nns, .timeout_ms = c->o.timeout_ms };
		bad = !(c->tls = tls_fetch_start(loop, &to, tls_done, c));
	}
	if (!bad && c->directory) {
		struct fetch_opts fo = { .url = c->directory, .max_body = 64 * 1024,
		                         .timeout_ms = c->o.timeout_ms, .ca_bundle = c->ca_bundle };
		bad = !(c->f = fetch_start(loop, &fo, dir_answer, c));
	}
	if (bad || diag_loop_timer(loop, 0, begin, c)) {
		certcheck_cancel(&c->head);
		certcheck_destroy(&c->head);
		return NULL;
	}
	return &c->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_certcheck_start(loop, opts, r, done, arg);
}

int diag_certcheck_run(const struct certcheck_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "certcheck.run");
}

/* ---- metrics ---- */

int diag_certcheck_metrics(const struct diag_report *r, const char *directory, struct diag_metrics *m)
{
	char *host = NULL;
	CURLU *u = directory ? curl_url() : NULL;
	if (u && curl_url_set(u, CURLUPART_URL, directory, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_cleanup(u);
	int ret = diag_metrics_cert_families(m);
	for (size_t i = 0; i < r->n && !ret; i++) {
		const struct diag_finding *f = r->v[i];
		const json_t *na = json_object_get(f->evidence, "not_after_s");
		const json_t *ws = json_object_get(f->evidence, "window_start_s");
		if (strcmp(f->id, "cert.validity") || !json_is_integer(na) || !json_is_integer(ws))
			continue;
		const char *l[] = {"name", f->target ? f->target : "", "ca", host ? host : "", NULL};
		ret = diag_metrics_sample(m, "acme_diag_certificate_expiry_timestamp_seconds", l,
		                          (double)json_integer_value(na)) ||
		      diag_metrics_sample(m, "acme_diag_certificate_renewal_window_start_timestamp_seconds", l,
		                          (double)json_integer_value(ws));
	}
	curl_free(host);
	return ret ? -1 : 0;
}
