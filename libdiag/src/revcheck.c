/* SPDX-License-Identifier: ISC */
/*
 * revcheck.c - revocation: CRLs (verified), OCSP, published serial lists.
 *
 * A probe on the diag loop in stages, each started when the one before has
 * nothing in flight: inputs (files, Secrets, lists; served chains fetched
 * from every address at once), targets (the leaves, their issuers from the
 * chain, --issuer or AIA caIssuers fetched at once; an incident list read
 * once against all of them), revocation (every distinct CRL fetched once,
 * every OCSP responder asked, all at once), then the judgment. A CRL is
 * walked once for all the certificates it covers.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "diag/crl.h"
#include "diag/revcheck.h"
#include "fetch.h"
#include "grow.h"
#include "tlschain.h"

enum verdict { V_NONE = 0, V_GOOD, V_REVOKED, V_ERROR };

struct crlsrc;

struct target {
	X509 *x;                  /* borrowed; NULL for a serial from --list */
	char *source;
	struct diag_serial serial;
	X509 *issuer;             /* borrowed; NULL when not found */
	char *crl_url, *ocsp_url, *aia_url;
	/* --serials */
	uint64_t hits, hit_line;
	char *hit_text;
	/* CRL */
	struct crlsrc *crl;
	enum verdict crl_v;
	char *crl_why;
	int64_t revoked_at;
	int reason;
	/* OCSP */
	struct fetch *ocsp_fetch;
	OCSP_REQUEST *ocsp_req;
	OCSP_CERTID *ocsp_id;
	enum verdict ocsp_v;
	int ocsp_expected_gone;   /* Let's Encrypt: OCSP ended in 2025 */
	int64_t ocsp_revoked_at;
	int ocsp_reason;
	struct diag_finding *ocsp_f;
};

struct crlsrc {
	struct revcheck_ctx *c;
	char *src;                /* URL or file name */
	int is_url;
	struct fetch *f;
	struct diag_crl crl;
	int parsed;
	char *err;                /* why it cannot be used at all */
	enum diag_status st;      /* of its cert.revocation.crl finding */
	X509 *verified_by;        /* the issuer whose key verified it; NULL: not verified */
	char *verify_err;
	int from_cache;
	char *notes;              /* freshness remarks */
	int64_t ms;
	size_t ntargets;
	int started;
};

struct aia {
	struct revcheck_ctx *c;
	char *url;
	struct fetch *f;
};

struct revcheck_ctx {
	struct diag_probe head;
	struct revcheck_opts o;
	char **crls, *serials_path, *cache_dir, *ca_bundle;
	size_t ncrls;
	int64_t now;
	struct diag_certs certs, issuers;
	struct diag_serial *listed;   /* --list */
	char **listed_src;
	size_t nlisted, listed_cap, listed_src_cap;
	int list_oom;
	struct tls_fetch **tls;
	char **hostnames;
	size_t ntls, tls_left;
	struct target *t;
	size_t nt;
	struct aia *aia;
	size_t naia, aia_left;
	struct crlsrc *crl;
	size_t ncrl;
	size_t left;               /* CRL and OCSP work in flight, plus a guard */
	int stage_done;
};

static void stage_targets(struct revcheck_ctx *c);
static void stage_revocation(struct revcheck_ctx *c);
static void judge(struct revcheck_ctx *c);

static struct diag_finding *run_error(struct revcheck_ctx *c, const char *what)
{
	struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, "revcheck.run", "revcheck", "%s", what);
	diag_set_hint(f, "The checks did not finish (out of memory): run them again.");
	return f;
}

static int fetch_timeout(const struct revcheck_ctx *c)
{
	return c->o.timeout_ms > 0 ? c->o.timeout_ms : 10000;
}

/* ---- inputs ---- */

static int is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* --list: serials one a line, read as published lists are. */
static int listed_one(void *arg, const struct diag_serial *k, uint64_t lineno, const char *line, size_t len)
{
	struct revcheck_ctx *c = arg;
	(void)line;
	(void)len;
	if (c->nlisted == REVCHECK_MAX_TARGETS)
		return 1;
	if (diag_grow((void **)&c->listed, &c->listed_cap, c->nlisted + 1, sizeof(*c->listed)) ||
	    diag_grow((void **)&c->listed_src, &c->listed_src_cap, c->nlisted + 1, sizeof(char *)))
		return c->list_oom = 1;
	c->listed[c->nlisted] = *k;
	c->listed_src[c->nlisted] = diag_asprintf("%s:%llu", c->o.list_path, (unsigned long long)lineno);
	if (!c->listed_src[c->nlisted])
		return c->list_oom = 1;
	c->nlisted++;
	return 0;
}

static int load_list(struct revcheck_ctx *c)
{
	const char *path = c->o.list_path;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	struct diag_list_stats st;
	char err[160] = "";
	if (fd < 0 || diag_serial_list_each(fd, listed_one, c, &st, err, sizeof(err))) {
		diag_add(c->head.r, DIAG_ERROR, "cert.input", path, "%s: %s", path, fd < 0 ? strerror(errno) : err);
		if (fd > 0)
			close(fd);
		return 0;
	}
	if (fd > 0)
		close(fd);
	if (c->list_oom)
		return -1;
	if (st.malformed) {
		struct diag_finding *f = diag_add(c->head.r, DIAG_ERROR, "cert.input", path,
		                                  "%s: %llu line%s not a serial number (first: line %llu)", path,
		                                  (unsigned long long)st.malformed, st.malformed == 1 ? " is" : "s are",
		                                  (unsigned long long)st.first_malformed);
		diag_set_hint(f, "One serial a line, in hex (colons, case and leading zeros do not matter).");
	}
	return 0;
}

static int copy_strings(char ***dst, const char *const *src, size_t n)
{
	if (!n)
		return 0;
	*dst = calloc(n, sizeof(char *));
	for (size_t i = 0; *dst && i < n; i++)
		if (!((*dst)[i] = diag_strdup(src[i])))
			return -1;
	return *dst ? 0 : -1;
}

static void tls_done(void *arg, struct tls_served *v, size_t n, const char *dns_err);

struct tls_arg {
	struct revcheck_ctx *c;
	size_t i;
};

static int start_hosts(struct revcheck_ctx *c)
{
	c->tls = calloc(c->o.nhosts, sizeof(*c->tls));
	c->hostnames = calloc(c->o.nhosts, sizeof(char *));
	if (!c->tls || !c->hostnames)
		return -1;
	for (size_t i = 0; i < c->o.nhosts; i++) {
		char host[256], err[160];
		uint16_t port;
		if (diag_hostport(c->o.hosts[i], host, sizeof(host), &port, 443, err, sizeof(err))) {
			diag_add(c->head.r, DIAG_ERROR, "cert.input", c->o.hosts[i], "%s: %s", c->o.hosts[i], err);
			continue;
		}
		struct tls_arg *ta = malloc(sizeof(*ta));
		if (!ta || !(c->hostnames[i] = diag_asprintf("%s:%u", host, port))) {
			free(ta);
			return -1;
		}
		*ta = (struct tls_arg){ c, i };
		struct tls_opts to = { .host = host, .port = port, .family = c->o.family, .ns = c->o.ns,
		                       .nns = c->o.nns, .timeout_ms = c->o.timeout_ms };
		c->tls_left++;
		if (!(c->tls[i] = tls_fetch_start(c->head.loop, &to, tls_done, ta))) {
			free(ta);
			return -1;
		}
		c->ntls = i + 1;
	}
	return 0;
}

static void tls_done(void *arg, struct tls_served *v, size_t n, const char *dns_err)
{
	struct tls_arg *ta = arg;
	struct revcheck_ctx *c = ta->c;
	const char *host = c->hostnames[ta->i];
	free(ta);
	size_t got = 0;
	for (size_t k = 0; k < n; k++) {
		if (!v[k].chain) {
			diag_add(c->head.r, DIAG_ERROR, "cert.input", host, "%s at %s: %s", host, v[k].ip, v[k].err);
			continue;
		}
		char *src = diag_asprintf("%s %s", host, v[k].ip);
		for (int i = 0; src && i < sk_X509_num(v[k].chain); i++) {
			X509 *x = sk_X509_value(v[k].chain, i);
			char *s = i ? diag_asprintf("%s#%d", src, i + 1) : diag_strdup(src);
			/* room first, then the reference: nothing to undo on failure */
			if (s && !diag_grow((void **)&c->certs.v, &c->certs.cap, c->certs.n + 1,
			                    sizeof(*c->certs.v)) && X509_up_ref(x))
				c->certs.v[c->certs.n++] = (struct diag_cert){ .x = x, .source = s,
				                                               .group = c->certs.groups };
			else {
				free(s);
				diag_add(c->head.r, DIAG_ERROR, "cert.input", host, "%s at %s: out of memory",
				         host, v[k].ip);
			}
		}
		c->certs.groups++;
		free(src);
		got++;
	}
	if (!n)
		diag_add(c->head.r, DIAG_ERROR, "cert.input", host, "%s: %s", host, dns_err ? dns_err : "no address");
	(void)got;
	if (--c->tls_left == 0)
		stage_targets(c);
}

/* ---- targets ---- */

static X509 *find_issuer(struct revcheck_ctx *c, const struct diag_cert *d)
{
	/* its own chain first, then --issuer, then any certificate given */
	for (int pass = 0; pass < 3; pass++) {
		const struct diag_certs *bag = pass == 1 ? &c->issuers : &c->certs;
		for (size_t i = 0; i < bag->n; i++) {
			if (pass == 0 && bag->v[i].group != d->group)
				continue;
			if (bag->v[i].x != d->x && diag_cert_issued_by(d->x, bag->v[i].x))
				return bag->v[i].x;
		}
	}
	return NULL;
}

static int add_target(struct revcheck_ctx *c, X509 *x, const char *source, const struct diag_serial *s)
{
	if (c->nt == REVCHECK_MAX_TARGETS)
		return 0;
	struct target *t = &c->t[c->nt];
	memset(t, 0, sizeof(*t));
	t->x = x;
	t->reason = t->ocsp_reason = -1;
	if (!(t->source = diag_strdup(source)))
		return -1;
	c->nt++;
	if (s)
		t->serial = *s;
	else if (diag_serial_from_asn1(X509_get0_serialNumber(x), &t->serial))
		t->serial.neg = 2;  /* cannot match anything */
	if (x) {
		t->crl_url = diag_cert_crl_url(x);
		t->ocsp_url = diag_cert_ocsp_url(x);
		t->aia_url = diag_cert_ca_issuers_url(x);
	}
	return 0;
}

static int build_targets(struct revcheck_ctx *c)
{
	diag_certs_mark_leaves(&c->certs);
	c->t = calloc(c->certs.n + c->nlisted + 1, sizeof(*c->t));
	if (!c->t)
		return -1;
	for (size_t i = 0; i < c->certs.n; i++) {
		struct diag_cert *d = &c->certs.v[i];
		if (!d->leaf)
			continue;
		int dup = 0;  /* the same certificate twice (live/ links into archive/): checked once */
		for (size_t k = 0; k < c->nt && !dup; k++)
			dup = c->t[k].x && !X509_cmp(c->t[k].x, d->x);
		if (dup)
			continue;
		if (add_target(c, d->x, d->source, NULL))
			return -1;
		c->t[c->nt - 1].issuer = find_issuer(c, d);
	}
	for (size_t i = 0; i < c->nlisted; i++)
		if (add_target(c, NULL, c->listed_src[i], &c->listed[i]))
			return -1;
	return 0;
}

struct incident_scan {
	struct revcheck_ctx *c;
};

static int incident_hit(void *arg, size_t idx, uint64_t lineno, const char *line, size_t len)
{
	struct revcheck_ctx *c = arg;
	struct target *t = &c->t[idx];
	if (!t->hits++) {
		t->hit_line = lineno;
		t->hit_text = diag_utf8_clean(line, diag_utf8_cut(line, len, 300));
	}
	return 0;
}

/* --serials: the list read once against every serial. */
static void incident_scan(struct revcheck_ctx *c)
{
	const char *path = c->serials_path;
	struct diag_serial_set *set = diag_serial_set_new(c->nt);
	for (size_t i = 0; set && i < c->nt; i++)
		if (c->t[i].serial.neg != 2 && diag_serial_set_add(set, &c->t[i].serial, i)) {
			diag_serial_set_free(set);
			set = NULL;
		}
	if (!set) {
		run_error(c, "cannot match the list (out of memory)");
		return;
	}
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	struct diag_list_stats st = {0};
	char err[160] = "";
	int64_t t0 = diag_now_ms();
	int rc = fd < 0 ? -1 : diag_serial_list_scan(fd, set, incident_hit, c, &st, err, sizeof(err));
	if (fd < 0)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	if (fd > 0)
		close(fd);
	diag_serial_set_free(set);
	enum diag_status ls = rc ? DIAG_ERROR : !st.serials ? DIAG_ERROR : DIAG_OK;
	struct diag_finding *lf;
	if (rc)
		lf = diag_add(c->head.r, ls, "cert.incident.list", path, "%s: cannot read it", path);
	else if (!st.serials)
		lf = diag_add(c->head.r, ls, "cert.incident.list", path, "%s: no serial number in %llu "
		              "lines: not a list of serials", path, (unsigned long long)st.lines);
	else
		lf = diag_add(c->head.r, ls, "cert.incident.list", path, "%s: %llu serials in %llu lines "
		              "read once against %zu serials to check", path, (unsigned long long)st.serials,
		              (unsigned long long)st.lines, c->nt);
	if (rc)
		diag_set_detail(lf, "%s", err);
	if (ls != DIAG_OK)
		diag_set_hint(lf, "Give the incident's list of serials, decompressed (one serial a line, "
		              "optionally after the word \"serial\", as in Let's Encrypt's files).");
	diag_evidence(lf, "lines", json_integer((json_int_t)st.lines));
	diag_evidence(lf, "serials", json_integer((json_int_t)st.serials));
	diag_evidence(lf, "malformed_lines", json_integer((json_int_t)st.malformed));
	diag_evidence(lf, "first_malformed_line", json_integer((json_int_t)st.first_malformed));
	diag_evidence(lf, "long_lines", json_integer((json_int_t)st.long_lines));
	diag_evidence(lf, "bytes", json_integer((json_int_t)st.bytes));
	if (lf)
		lf->duration_ms = diag_now_ms() - t0;
	if (ls != DIAG_OK)
		return;
	for (size_t i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		char hex[2 * SERIAL_BYTES + 2];
		diag_serial_hex(&t->serial, hex, sizeof(hex));
		struct diag_finding *f;
		if (t->hits) {
			f = diag_add(c->head.r, DIAG_FAIL, "cert.incident", t->source, "serial %s is on the list "
			             "%s (line %llu): %s", hex, path, (unsigned long long)t->hit_line,
			             t->hit_text ? t->hit_text : "");
			diag_set_hint(f, "Replace this certificate now (renew it: certbot renew --force-renewal "
			              "--cert-name NAME, or delete the cert-manager Secret); the CA will revoke "
			              "it, and its ARI window already says to renew.");
		} else {
			f = diag_add(c->head.r, DIAG_OK, "cert.incident", t->source, "serial %s is not on the list %s",
			             hex, path);
		}
		diag_evidence(f, "serial", json_string(hex));
		diag_evidence(f, "line", t->hits ? json_integer((json_int_t)t->hit_line) : json_null());
		diag_evidence(f, "matches", json_integer((json_int_t)t->hits));
	}
}

static void aia_done(void *arg, struct fetch_result *res)
{
	struct aia *a = arg;
	struct revcheck_ctx *c = a->c;
	a->f = NULL;
	char err[256] = "", buf[64];
	const char *why = fetch_error(res, buf, sizeof(buf));
	if (!why && res->status != 200)
		snprintf(err, sizeof(err), "HTTP %ld", res->status);
	else if (why)
		snprintf(err, sizeof(err), "%s", why);
	else if (diag_certs_add_buf(&c->issuers, res->body, res->len, a->url, err, sizeof(err)) < 0)
		snprintf(err, sizeof(err), "out of memory");
	if (err[0]) {
		struct diag_finding *f = diag_add(c->head.r, DIAG_WARN, "cert.issuer", a->url,
		                                  "caIssuers %s: %s", a->url, err);
		diag_set_hint(f, "Give the issuer with --issuer FILE (chain.pem), or a bundle with the chain.");
	}
	if (--c->aia_left == 0)
		stage_revocation(c);
}

/* Issuers not in the input: AIA caIssuers, each URL fetched once, all at once. */
static void fetch_issuers(struct revcheck_ctx *c)
{
	c->aia = calloc(c->nt + 1, sizeof(*c->aia));
	c->aia_left = 1;
	for (size_t i = 0; c->aia && i < c->nt; i++) {
		struct target *t = &c->t[i];
		if (!t->x || t->issuer || !t->aia_url || !is_url(t->aia_url))
			continue;
		size_t k = 0;
		while (k < c->naia && strcmp(c->aia[k].url, t->aia_url))
			k++;
		if (k < c->naia)
			continue;
		struct aia *a = &c->aia[c->naia];
		*a = (struct aia){ .c = c, .url = diag_strdup(t->aia_url) };
		if (!a->url)
			break;
		struct fetch_opts fo = { .url = a->url, .max_body = 1 << 20, .timeout_ms = fetch_timeout(c),
		                         .ca_bundle = c->ca_bundle };
		c->naia++;
		c->aia_left++;
		if (!(a->f = fetch_start(c->head.loop, &fo, aia_done, a)))
			c->aia_left--;
	}
	if (--c->aia_left == 0)
		stage_revocation(c);
}

static void stage_targets(struct revcheck_ctx *c)
{
	if (build_targets(c)) {
		run_error(c, "cannot list the certificates (out of memory)");
		diag_probe_finish(&c->head);
		return;
	}
	if (c->serials_path)
		incident_scan(c);
	fetch_issuers(c);
}

/* ---- CRLs ---- */

static void work_done(struct revcheck_ctx *c)
{
	if (--c->left == 0)
		judge(c);
}

/* The cache file of a URL: DIR/<sha256 of the URL>.crl. */
static char *cache_path(const struct revcheck_ctx *c, const char *url)
{
	unsigned char md[32];
	char hex[65];
	unsigned int n = 0;
	if (!EVP_Digest(url, strlen(url), md, &n, EVP_sha256(), NULL))
		return NULL;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return diag_asprintf("%s/%s.crl", c->cache_dir, hex);
}

static unsigned char *slurp(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	struct stat st;
	unsigned char *buf = NULL;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
	} else if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "larger than %zu MiB", max >> 20);
	} else if ((buf = malloc((size_t)st.st_size + 1))) {
		size_t n = 0;
		ssize_t got = 1;
		while (n < (size_t)st.st_size && (got = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
			n += (size_t)got;
		*len = n;
		if (got < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			free(buf);
			buf = NULL;
		}
	} else {
		snprintf(err, errlen, "out of memory");
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Which known certificate's key verifies the CRL? Its issuer name first. */
static void crl_verify(struct crlsrc *s)
{
	struct revcheck_ctx *c = s->c;
	char err[200] = "";
	int tried = 0;
	for (int pass = 0; pass < 2 && !s->verified_by; pass++) {
		const struct diag_certs *bag = pass ? &c->certs : &c->issuers;
		for (size_t i = 0; i < bag->n && !s->verified_by; i++) {
			X509 *x = bag->v[i].x;
			if (X509_NAME_cmp(X509_get_subject_name(x), s->crl.issuer))
				continue;
			tried++;
			if (diag_crl_verify(&s->crl, X509_get0_pubkey(x), err, sizeof(err)) == 1)
				s->verified_by = x;
		}
	}
	for (size_t i = 0; i < c->nt && !s->verified_by; i++) {
		X509 *x = c->t[i].issuer;
		if (!x || X509_NAME_cmp(X509_get_subject_name(x), s->crl.issuer))
			continue;
		tried++;
		if (diag_crl_verify(&s->crl, X509_get0_pubkey(x), err, sizeof(err)) == 1)
			s->verified_by = x;
	}
	if (!s->verified_by) {
		char *iss = diag_name_str(s->crl.issuer);
		s->verify_err = tried ? diag_strdup(err)
		                      : diag_asprintf("its issuer's certificate (%s) is not known: the "
		                                      "signature cannot be checked", iss ? iss : "?");
		free(iss);
	}
}

/* What a client must refuse before trusting a CRL at all. NULL: usable. */
static const char *crl_unusable(const struct diag_crl *k)
{
	if (k->delta)
		return "a delta CRL (deltaCRLIndicator): it lists only changes; give the full CRL";
	if (k->unknown_critical)
		return "a critical extension this tool does not understand";
	if (k->idp && k->idp->indirectCRL)
		return "an indirect CRL (indirectCRL): not supported";
	if (k->idp && k->idp->onlysomereasons)
		return "a CRL for some reasons only (onlySomeReasons): it cannot say a certificate is not revoked";
	if (k->idp && k->idp->onlyattr > 0)
		return "a CRL for attribute certificates only";
	return NULL;
}

static void crl_freshness(struct crlsrc *s)
{
	int64_t now = s->c->now;
	char tu[32], nu[32];
	diag_time_str(s->crl.this_update, tu, sizeof(tu));
	diag_time_str(s->crl.next_update, nu, sizeof(nu));
	if (!s->crl.next_update) {
		s->notes = diag_strdup("no nextUpdate: nothing says when it goes stale");
		s->st = DIAG_WARN;
	} else if (now >= s->crl.next_update) {
		s->notes = diag_asprintf("stale: its nextUpdate %s passed %.1f h ago; revocations since "
		                         "are missing", nu, (double)(now - s->crl.next_update) / 3600);
		s->st = DIAG_WARN;
	} else if (s->crl.this_update > now + 300) {
		s->notes = diag_asprintf("issued in the future (thisUpdate %s): is the local clock behind?", tu);
		s->st = DIAG_WARN;
	}
}

static void crl_cache_store(struct crlsrc *s)
{
	struct revcheck_ctx *c = s->c;
	char *path = c->cache_dir && s->is_url && !s->from_cache ? cache_path(c, s->src) : NULL;
	/* a name of its own, made with O_EXCL (mkstemp): in a shared cache
	 * folder a predictable name could be a symlink to another file */
	char *tmp = path ? diag_asprintf("%s.XXXXXX", path) : NULL;
	int fd = tmp ? mkstemp(tmp) : -1;
	if (fd >= 0) {
		size_t off = 0;
		ssize_t w = 1;
		while (off < s->crl.len && (w = write(fd, s->crl.der + off, s->crl.len - off)) > 0)
			off += (size_t)w;
		if (close(fd) || w <= 0 || rename(tmp, path))
			unlink(tmp);
	}
	free(tmp);
	free(path);
}

/* A CRL's bytes arrived (file, cache or network): parse, check, verify. */
/* buf is taken over. */
static void crl_loaded(struct crlsrc *s, unsigned char *buf, size_t len)
{
	char err[200];
	if (diag_crl_take(buf, len, &s->crl, err, sizeof(err))) {
		s->err = diag_asprintf("not a CRL: %s", err);
		return;
	}
	s->parsed = 1;
	const char *why = crl_unusable(&s->crl);
	if (why) {
		s->err = diag_strdup(why);
		return;
	}
	crl_verify(s);
	if (!s->verified_by)
		return;
	crl_freshness(s);
	crl_cache_store(s);
}

/* A cached copy still inside its validity: used instead of a fetch. */
static int crl_from_cache(struct crlsrc *s)
{
	char *path = cache_path(s->c, s->src);
	size_t len = 0;
	char err[64];
	unsigned char *buf = path ? slurp(path, CRL_MAX_BYTES, &len, err, sizeof(err)) : NULL;
	free(path);
	if (!buf)
		return 0;
	struct diag_crl k;
	int fresh = !diag_crl_take(buf, len, &k, err, sizeof(err)) && k.next_update > s->c->now;
	if (fresh) {
		s->from_cache = 1;
		s->crl = k;
		s->parsed = 1;
		const char *why = crl_unusable(&s->crl);
		if (why)
			s->err = diag_strdup(why);
		else
			crl_verify(s);
	} else if (!fresh && k.der) {
		diag_crl_free(&k);
	}
	return fresh;
}

static void crl_fetched(void *arg, struct fetch_result *res)
{
	struct crlsrc *s = arg;
	s->f = NULL;
	s->ms = res->ms;
	char buf[64];
	const char *why = fetch_error(res, buf, sizeof(buf));
	if (why)
		s->err = diag_asprintf("cannot fetch it: %s", why);
	else if (res->status != 200)
		s->err = diag_asprintf("cannot fetch it: HTTP %ld", res->status);
	else {
		crl_loaded(s, res->body, res->len);
		res->body = NULL;  /* taken */
	}
	work_done(s->c);
}

static struct crlsrc *crl_source(struct revcheck_ctx *c, const char *src)
{
	for (size_t i = 0; i < c->ncrl; i++)
		if (!strcmp(c->crl[i].src, src))
			return &c->crl[i];
	if (c->ncrl == REVCHECK_MAX_CRLS)
		return NULL;
	struct crlsrc *s = &c->crl[c->ncrl];
	*s = (struct crlsrc){ .c = c, .src = diag_strdup(src), .is_url = is_url(src), .st = DIAG_OK };
	if (!s->src)
		return NULL;
	c->ncrl++;
	return s;
}

static void crl_start(struct crlsrc *s)
{
	struct revcheck_ctx *c = s->c;
	s->started = 1;
	if (!s->is_url) {
		size_t len = 0;
		char err[160];
		unsigned char *buf = slurp(s->src, CRL_MAX_BYTES, &len, err, sizeof(err));
		if (buf)
			crl_loaded(s, buf, len);
		else
			s->err = diag_asprintf("cannot read it: %s", err);
		return;
	}
	if (c->cache_dir && crl_from_cache(s))
		return;
	struct fetch_opts fo = { .url = s->src, .max_body = CRL_MAX_BYTES, .timeout_ms = 4 * fetch_timeout(c),
	                         .ca_bundle = c->ca_bundle };
	c->left++;
	if (!(s->f = fetch_start(c->head.loop, &fo, crl_fetched, s))) {
		c->left--;
		s->err = diag_strdup("cannot fetch it (out of memory)");
	}
}

/* ---- OCSP ---- */

static int is_letsencrypt(X509 *x)
{
	const X509_NAME *n = X509_get_issuer_name(x);
	int i = X509_NAME_get_index_by_NID(n, NID_organizationName, -1);
	const ASN1_STRING *o = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)) : NULL;
	return o && ASN1_STRING_length(o) == 13 && !memcmp(ASN1_STRING_get0_data(o), "Let's Encrypt", 13);
}

static struct diag_finding *ocsp_add(struct revcheck_ctx *c, struct target *t, enum diag_status st,
                                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct diag_finding *ocsp_add(struct revcheck_ctx *c, struct target *t, enum diag_status st,
                                     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = diag_vasprintf(fmt, ap);
	va_end(ap);
	if (st == DIAG_ERROR && t->ocsp_expected_gone)
		st = DIAG_SKIP;
	struct diag_finding *f = diag_add(c->head.r, st, "cert.revocation.ocsp", t->source, "%s: %s%s",
	                                  t->ocsp_url, msg ? msg : "",
	                                  t->ocsp_expected_gone && st == DIAG_SKIP
	                                  ? " (expected: Let's Encrypt ended OCSP in 2025; its CRL is the source)" : "");
	free(msg);
	diag_evidence(f, "responder", diag_json_str(t->ocsp_url));
	t->ocsp_f = f;
	return f;
}

/* A response: status, nonce, signature, this certificate's entry, times. */
static void ocsp_judge(struct revcheck_ctx *c, struct target *t, const unsigned char *body, size_t len)
{
	struct diag_ocsp_answer a;
	char err[200];
	t->ocsp_v = V_ERROR;
	if (diag_ocsp_read(body, len, t->ocsp_req, t->ocsp_id, t->issuer, &a, err, sizeof(err))) {
		ocsp_add(c, t, DIAG_ERROR, "%s", err);
		return;
	}
	const char *nn = a.nonce_checked ? "nonce checked" : "the responder does not echo nonces";
	struct diag_finding *f;
	if (a.status == V_OCSP_CERTSTATUS_REVOKED) {
		t->ocsp_v = V_REVOKED;
		t->ocsp_revoked_at = a.revoked_at;
		t->ocsp_reason = a.reason;
		char when[32];
		diag_time_str(a.revoked_at, when, sizeof(when));
		f = ocsp_add(c, t, DIAG_FAIL, "revoked since %s (%s); signed response, %s", when,
		             diag_crl_reason_name(a.reason), nn);
	} else if (a.status == V_OCSP_CERTSTATUS_GOOD) {
		t->ocsp_v = V_GOOD;
		f = ocsp_add(c, t, a.fresh ? DIAG_OK : DIAG_WARN, "good; signed response, %s%s", nn,
		             a.fresh ? "" : "; but the response is stale (outside thisUpdate/nextUpdate)");
	} else {
		f = ocsp_add(c, t, DIAG_ERROR, "unknown: the responder does not know this certificate");
	}
	diag_evidence(f, "status", json_string(OCSP_cert_status_str(a.status)));
	diag_evidence(f, "nonce", json_string(a.nonce_checked ? "checked" : "not echoed"));
	diag_evidence(f, "this_update", json_integer((json_int_t)a.this_update));
	diag_evidence(f, "next_update", json_integer((json_int_t)a.next_update));
}

struct ocsp_arg {
	struct revcheck_ctx *c;
	struct target *t;
};

static void ocsp_fetched(void *arg, struct fetch_result *res)
{
	struct ocsp_arg *a = arg;
	struct revcheck_ctx *c = a->c;
	struct target *t = a->t;
	free(a);
	t->ocsp_fetch = NULL;
	char buf[64];
	const char *why = fetch_error(res, buf, sizeof(buf));
	if (why) {
		t->ocsp_v = V_ERROR;
		ocsp_add(c, t, DIAG_ERROR, "no answer: %s", why);
	} else if (res->status != 200) {
		t->ocsp_v = V_ERROR;
		ocsp_add(c, t, DIAG_ERROR, "HTTP %ld", res->status);
	} else {
		ocsp_judge(c, t, res->body, res->len);
	}
	work_done(c);
}

static void ocsp_start(struct revcheck_ctx *c, struct target *t)
{
	t->ocsp_expected_gone = is_letsencrypt(t->x);
	if (!t->issuer) {
		t->ocsp_v = V_ERROR;
		ocsp_add(c, t, DIAG_ERROR, "not asked: the issuer's certificate is not known (give --issuer)");
		return;
	}
	unsigned char *der = NULL;
	int len = -1;
	struct ocsp_arg *a = malloc(sizeof(*a));
	if (a && (t->ocsp_id = OCSP_cert_to_id(EVP_sha1(), t->x, t->issuer)) &&
	    (t->ocsp_req = OCSP_REQUEST_new()) &&
	    OCSP_request_add0_id(t->ocsp_req, OCSP_CERTID_dup(t->ocsp_id)) &&
	    OCSP_request_add1_nonce(t->ocsp_req, NULL, -1))
		len = i2d_OCSP_REQUEST(t->ocsp_req, &der);
	ERR_clear_error();
	if (len <= 0) {
		free(a);
		t->ocsp_v = V_ERROR;
		ocsp_add(c, t, DIAG_ERROR, "cannot build the request");
		return;
	}
	*a = (struct ocsp_arg){ c, t };
	struct fetch_opts fo = { .url = t->ocsp_url, .post = der, .postlen = (size_t)len,
	                         .content_type = "application/ocsp-request", .max_body = 64 * 1024,
	                         .timeout_ms = fetch_timeout(c), .ca_bundle = c->ca_bundle };
	c->left++;
	if (!(t->ocsp_fetch = fetch_start(c->head.loop, &fo, ocsp_fetched, a))) {
		c->left--;
		free(a);
		t->ocsp_v = V_ERROR;
		ocsp_add(c, t, DIAG_ERROR, "cannot send the request (out of memory)");
	}
	OPENSSL_free(der);
}

static void stage_revocation(struct revcheck_ctx *c)
{
	c->crl = calloc(REVCHECK_MAX_CRLS, sizeof(*c->crl));
	if (!c->crl) {
		run_error(c, "cannot check revocation (out of memory)");
		diag_probe_finish(&c->head);
		return;
	}
	c->left = 1;  /* a guard: work may end before the next starts */
	for (size_t i = 0; i < c->ncrls; i++) {
		struct crlsrc *s = crl_source(c, c->crls[i]);
		if (s && !s->started)
			crl_start(s);
	}
	for (size_t i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		if (!t->x)
			continue;
		if (!t->issuer)
			for (size_t k = 0; k < c->issuers.n && !t->issuer; k++)
				if (diag_cert_issued_by(t->x, c->issuers.v[k].x))
					t->issuer = c->issuers.v[k].x;
		if (!c->ncrls && t->crl_url) {
			struct crlsrc *s = is_url(t->crl_url) ? crl_source(c, t->crl_url) : NULL;
			if (s && !s->started)
				crl_start(s);
		}
		if (t->ocsp_url && is_url(t->ocsp_url))
			ocsp_start(c, t);
	}
	work_done(c);
}

/* ---- the judgment ---- */

/* The CRL a target is checked against: with --crl, the one of its issuer;
 * else its distribution point's. */
static struct crlsrc *crl_for(struct revcheck_ctx *c, const struct target *t)
{
	if (!c->ncrls) {
		for (size_t i = 0; t->crl_url && i < c->ncrl; i++)
			if (!strcmp(c->crl[i].src, t->crl_url))
				return &c->crl[i];
		return NULL;
	}
	for (size_t i = 0; i < c->ncrl; i++) {
		struct crlsrc *s = &c->crl[i];
		if (s->parsed && (!t->x || !X509_NAME_cmp(s->crl.issuer, X509_get_issuer_name(t->x))))
			return s;
	}
	return c->ncrl ? &c->crl[0] : NULL;
}

/* RFC 5280 6.3.3: does this (verified) CRL speak for t? NULL: it does. */
static const char *crl_scope(const struct crlsrc *s, const struct target *t)
{
	const struct diag_crl *k = &s->crl;
	if (!t->x)
		return NULL;
	if (X509_NAME_cmp(k->issuer, X509_get_issuer_name(t->x)))
		return "the CRL is issued by another CA than the certificate";
	if (t->issuer && s->verified_by != t->issuer &&
	    EVP_PKEY_eq(X509_get0_pubkey(s->verified_by), X509_get0_pubkey(t->issuer)) != 1)
		return "the CRL is signed by another key than the certificate's issuer";
	if (!k->idp)
		return NULL;
	int ca = X509_check_ca(t->x) > 0;
	if (k->idp->onlyuser > 0 && ca)
		return "the CRL covers end-entity certificates only (onlyContainsUserCerts), this is a CA";
	if (k->idp->onlyCA > 0 && !ca)
		return "the CRL covers CA certificates only (onlyContainsCACerts)";
	DIST_POINT_NAME *dpn = k->idp->distpoint;
	if (dpn && dpn->type == 0) {
		for (int i = 0; i < sk_GENERAL_NAME_num(dpn->name.fullname); i++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dpn->name.fullname, i);
			if (g->type != GEN_URI)
				continue;
			char *u = diag_utf8_clean((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
			                          (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier));
			int has = u && diag_cert_has_crl_url(t->x, u);
			free(u);
			if (has)
				return NULL;
		}
		return "the CRL's issuing distribution point is not one the certificate names: another "
		       "shard of the CA's CRL";
	}
	return NULL;
}

struct walk_arg {
	struct revcheck_ctx *c;
	struct diag_serial_set *set;
	struct crlsrc *s;
};

static int crl_hit(void *arg, const struct diag_serial *k, const unsigned char *entry, size_t len)
{
	struct walk_arg *w = arg;
	size_t it = 0, idx;
	while (diag_serial_set_next(w->set, k, &it, &idx)) {
		struct target *t = &w->c->t[idx];
		if (t->crl != w->s || t->crl_v != V_GOOD)
			continue;
		t->crl_v = V_REVOKED;
		diag_crl_entry(entry, len, &t->revoked_at, &t->reason);
	}
	return 0;
}

/* Every target's CRL verdict; each CRL walked once. */
static int crl_verdicts(struct revcheck_ctx *c)
{
	struct diag_serial_set *set = diag_serial_set_new(c->nt);
	if (!set)
		return -1;
	for (size_t i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		struct crlsrc *s = t->crl = crl_for(c, t);
		const char *scope;
		if (!s)
			continue;
		s->ntargets++;
		if (s->err || !s->verified_by) {
			t->crl_v = V_ERROR;
			t->crl_why = diag_asprintf("the CRL %s cannot be used: %s", s->src,
			                           s->err ? s->err : s->verify_err ? s->verify_err : "?");
		} else if ((scope = crl_scope(s, t))) {
			t->crl_v = V_ERROR;
			t->crl_why = diag_asprintf("the CRL %s does not cover it: %s", s->src, scope);
		} else {
			t->crl_v = V_GOOD;
			if (diag_serial_set_add(set, &t->serial, i)) {
				diag_serial_set_free(set);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < c->ncrl; i++) {
		struct walk_arg w = { c, set, &c->crl[i] };
		if (c->crl[i].verified_by && !c->crl[i].err)
			diag_crl_walk(&c->crl[i].crl, crl_hit, &w);
	}
	diag_serial_set_free(set);
	return 0;
}

static void report_crl(struct revcheck_ctx *c, struct crlsrc *s)
{
	struct diag_finding *f;
	char tu[32], nu[32];
	diag_time_str(s->crl.this_update, tu, sizeof(tu));
	diag_time_str(s->crl.next_update, nu, sizeof(nu));
	if (s->err || !s->verified_by) {
		f = diag_add(c->head.r, DIAG_ERROR, "cert.revocation.crl", s->src, "%s: %s", s->src,
		             s->err ? s->err : s->verify_err);
		diag_set_hint(f, s->err && !s->parsed ? "Check the URL (curl -sI URL) or the file: a CRL is DER "
		              "(or PEM) served as it was signed."
		              : "A CRL counts only when its signature verifies with the certificate's issuer: give "
		                "the issuer with --issuer FILE (chain.pem), and the CA's full CRL.");
	} else {
		char *by = diag_name_str(X509_get_subject_name(s->verified_by));
		f = diag_add(c->head.r, s->st, "cert.revocation.crl", s->src, "%s: %zu entr%s, signed by %s, "
		             "thisUpdate %s, nextUpdate %s%s%s%s", s->src, s->crl.entries,
		             s->crl.entries == 1 ? "y" : "ies", by ? by : "?", tu,
		             s->crl.next_update ? nu : "none", s->crl.idp ? ", with an issuing distribution point" : "",
		             s->notes ? "; " : "", s->notes ? s->notes : "");
		free(by);
		if (s->st != DIAG_OK)
			diag_set_hint(f, "The CA should publish a new CRL before nextUpdate; a stale CRL misses "
			              "recent revocations. Check that the URL serves the CA's current CRL (a cache or "
			              "mirror in front of it may be old).");
	}
	diag_evidence(f, "entries", json_integer((json_int_t)s->crl.entries));
	diag_evidence(f, "bytes", json_integer((json_int_t)s->crl.len));
	diag_evidence(f, "this_update", s->parsed ? json_string(tu) : json_null());
	diag_evidence(f, "next_update", s->parsed && s->crl.next_update ? json_string(nu) : json_null());
	diag_evidence(f, "verified", json_boolean(s->verified_by != NULL));
	diag_evidence(f, "from_cache", json_boolean(s->from_cache));
	diag_evidence(f, "version", json_integer(s->crl.version + 1));
	diag_evidence(f, "certificates", json_integer((json_int_t)s->ntargets));
	if (s->crl.number) {
		char *n = i2s_ASN1_INTEGER(NULL, s->crl.number);
		diag_evidence(f, "crl_number", diag_json_str(n));
		OPENSSL_free(n);
	}
	if (f && s->is_url && !s->from_cache)
		f->duration_ms = s->ms;
}

static void report_target(struct revcheck_ctx *c, struct target *t)
{
	struct diag_finding *f;
	char when[32];
	int64_t at = t->crl_v == V_REVOKED ? t->revoked_at : t->ocsp_revoked_at;
	int reason = t->crl_v == V_REVOKED ? t->reason : t->ocsp_reason;
	diag_time_str(at, when, sizeof(when));
	if (t->crl_v == V_REVOKED || t->ocsp_v == V_REVOKED) {
		f = diag_add(c->head.r, DIAG_FAIL, "cert.revocation", t->source, "revoked since %s (%s), "
		             "according to %s", when, diag_crl_reason_name(reason),
		             t->crl_v == V_REVOKED ? t->crl->src : t->ocsp_url);
		diag_set_hint(f, "Replace the certificate: issue a new one (certbot renew --force-renewal "
		              "--cert-name NAME; cert-manager: delete the Secret) and deploy it; clients that "
		              "check revocation refuse this one.");
		diag_evidence(f, "revoked_at", json_string(when));
		diag_evidence(f, "reason", json_string(diag_crl_reason_name(reason)));
	} else if (t->crl_v == V_GOOD || t->ocsp_v == V_GOOD) {
		/* OCSP alone answered while a CRL could not: said, as a warning */
		f = diag_add(c->head.r, t->crl_why ? DIAG_WARN : DIAG_OK, "cert.revocation", t->source,
		             "not revoked: %s%s%s%s%s",
		             t->crl_v == V_GOOD ? "not on the verified CRL " : "",
		             t->crl_v == V_GOOD ? t->crl->src : "",
		             t->ocsp_v == V_GOOD ? (t->crl_v == V_GOOD ? "; OCSP good" : "OCSP good") : "",
		             t->crl_why ? "; but " : "", t->crl_why ? t->crl_why : "");
		if (t->crl_why)
			diag_set_hint(f, "Only OCSP vouches for this certificate: fix the CRL named (its issuer, "
			              "signature or scope), or give the right one with --crl.");
	} else {
		const char *why = t->crl_why ? t->crl_why : t->ocsp_v == V_ERROR
		                  ? "its OCSP responder gave no usable answer" : NULL;
		if (!why && t->crl_url && !is_url(t->crl_url))
			why = "its CRL distribution point is not an http URL";
		if (t->ocsp_expected_gone && !t->crl)
			why = "Let's Encrypt ended OCSP in 2025 (responders off since 2025-08-06) and this "
			      "certificate names no CRL distribution point; its CA's CRL is the source: give "
			      "it with --crl";
		f = diag_add(c->head.r, DIAG_ERROR, "cert.revocation", t->source, "could not determine: %s",
		             why ? why : "the certificate names no CRL distribution point and no OCSP "
		             "responder; give its CA's CRL with --crl");
		diag_set_hint(f, "Give the CA's CRL (--crl FILE|URL) and the issuer (--issuer FILE) so the "
		              "CRL can be verified; without a verified source nothing says it is not revoked.");
	}
	char hex[2 * SERIAL_BYTES + 2];
	diag_serial_hex(&t->serial, hex, sizeof(hex));
	diag_evidence(f, "serial", json_string(hex));
	if (t->x)
		diag_evidence(f, "certificate", diag_cert_json(t->x));
	diag_evidence(f, "crl", t->crl ? diag_json_str(t->crl->src) : json_null());
	diag_evidence(f, "ocsp", diag_json_str(t->ocsp_url));
	diag_evidence(f, "issuer_found", json_boolean(t->issuer != NULL));
}

static void judge(struct revcheck_ctx *c)
{
	if (crl_verdicts(c)) {
		run_error(c, "cannot match the CRLs (out of memory)");
		diag_probe_finish(&c->head);
		return;
	}
	for (size_t i = 0; i < c->ncrl; i++)
		report_crl(c, &c->crl[i]);
	for (size_t i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		if (!t->x && !c->ncrls)
			continue;  /* a bare serial: only lists and given CRLs speak for it */
		if (t->x && !t->issuer) {
			struct diag_finding *f = diag_add(c->head.r, DIAG_WARN, "cert.issuer", t->source,
			                                  "the issuer's certificate was not found (not in the "
			                                  "input, --issuer or AIA caIssuers)");
			diag_set_hint(f, "Give a bundle with the chain (fullchain.pem) or --issuer chain.pem.");
		}
		report_target(c, t);
		/* a second source that failed while the CRL answered: a warning */
		if (t->ocsp_f && t->ocsp_f->status == DIAG_ERROR && (t->crl_v == V_GOOD || t->crl_v == V_REVOKED)) {
			t->ocsp_f->status = DIAG_WARN;
			diag_set_detail(t->ocsp_f, "The verified CRL answered for this certificate; OCSP was "
			                "a second opinion.");
		}
	}
	diag_probe_finish(&c->head);
}

/* ---- the probe's life ---- */

static void revcheck_cancel(struct diag_probe *hp)
{
	struct revcheck_ctx *c = (struct revcheck_ctx *)hp;
	diag_loop_cancel_timers(hp->loop, c);
	for (size_t i = 0; i < c->ntls; i++) {
		tls_fetch_free(c->tls[i]);
		c->tls[i] = NULL;
	}
	for (size_t i = 0; i < c->naia; i++) {
		fetch_cancel(c->aia[i].f);
		c->aia[i].f = NULL;
	}
	for (size_t i = 0; c->crl && i < c->ncrl; i++) {
		fetch_cancel(c->crl[i].f);
		c->crl[i].f = NULL;
	}
	for (size_t i = 0; c->t && i < c->nt; i++) {
		if (c->t[i].ocsp_fetch) {
			/* its argument is freed with it: see ocsp_fetched */
			fetch_cancel(c->t[i].ocsp_fetch);
			c->t[i].ocsp_fetch = NULL;
		}
	}
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void revcheck_destroy(struct diag_probe *hp)
{
	struct revcheck_ctx *c = (struct revcheck_ctx *)hp;
	for (size_t i = 0; c->t && i < c->nt; i++) {
		struct target *t = &c->t[i];
		free(t->source);
		free(t->crl_url);
		free(t->ocsp_url);
		free(t->aia_url);
		free(t->hit_text);
		free(t->crl_why);
		OCSP_REQUEST_free(t->ocsp_req);
		OCSP_CERTID_free(t->ocsp_id);
	}
	free(c->t);
	for (size_t i = 0; c->crl && i < c->ncrl; i++) {
		diag_crl_free(&c->crl[i].crl);
		free(c->crl[i].src);
		free(c->crl[i].err);
		free(c->crl[i].verify_err);
		free(c->crl[i].notes);
	}
	free(c->crl);
	for (size_t i = 0; c->aia && i < c->naia; i++)
		free(c->aia[i].url);
	free(c->aia);
	for (size_t i = 0; i < c->ntls; i++)
		tls_fetch_free(c->tls[i]);
	free(c->tls);
	free_strings(c->hostnames, c->o.nhosts);
	free_strings(c->crls, c->ncrls);
	free_strings(c->listed_src, c->nlisted);
	free(c->listed);
	free(c->serials_path);
	free(c->cache_dir);
	free(c->ca_bundle);
	diag_certs_free(&c->certs);
	diag_certs_free(&c->issuers);
	free(c);
}

static const struct diag_probe_ops revcheck_ops = {
	.name = "revcheck", .cancel = revcheck_cancel, .destroy = revcheck_destroy,
};

/* Files, Secrets, lists and issuers, read now; served chains started. */
static int read_inputs(struct revcheck_ctx *c, const struct revcheck_opts *o)
{
	for (size_t i = 0; i < o->npaths; i++)
		if (diag_certs_add_path(&c->certs, o->paths[i], c->head.r) < 0)
			return -1;
	if (o->k8s && diag_certs_add_k8s(&c->certs, o->k8s, c->head.r) < 0)
		return -1;
	for (size_t i = 0; i < o->nissuers; i++)
		if (diag_certs_add_path(&c->issuers, o->issuers[i], c->head.r) < 0)
			return -1;
	if (o->list_path && load_list(c))
		return -1;
	return o->nhosts ? start_hosts(c) : 0;
}

static void begin(void *arg)
{
	struct revcheck_ctx *c = arg;
	if (--c->tls_left == 0)
		stage_targets(c);
}

struct diag_probe *diag_revcheck_start(struct diag_loop *loop, const struct revcheck_opts *o,
                                       struct diag_report *r, diag_done_cb done, void *arg)
{
	struct revcheck_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	diag_probe_init(&c->head, &revcheck_ops, loop, r, done, arg);
	c->o = *o;
	c->now = o->now ? o->now : diag_wall_ms() / 1000;
	c->ncrls = o->ncrls;
	int bad = copy_strings(&c->crls, o->crls, o->ncrls) ||
	          (o->serials_path && !(c->serials_path = diag_strdup(o->serials_path))) ||
	          (o->cache_dir && !(c->cache_dir = diag_strdup(o->cache_dir))) ||
	          (o->ca_bundle && !(c->ca_bundle = diag_strdup(o->ca_bundle)));
	c->o.paths = NULL;
	c->o.k8s = NULL;
	c->o.crls = NULL;
	c->o.issuers = NULL;
	c->tls_left = 1;  /* begin's; each host adds one */
	if (bad || read_inputs(c, o) || diag_loop_timer(loop, 0, begin, c)) {
		revcheck_cancel(&c->head);
		revcheck_destroy(&c->head);
		return NULL;
	}
	c->o.hosts = NULL;
	return &c->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts,
                                        struct diag_report *r, diag_done_cb done, void *arg)
{
	return diag_revcheck_start(loop, opts, r, done, arg);
}

int diag_revcheck_run(const struct revcheck_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "revcheck.run");
}
