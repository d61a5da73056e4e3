/* SPDX-License-Identifier: ISC */
/*
 * account.c - is this ACME account usable, as the CA sees it?
 *
 * A chain of continuations on the loop: directory, account lookup by key
 * (onlyReturnExisting), the account fetched with its kid, then every
 * contact's domain looked up (MX, A, AAAA) at the chosen resolvers, all at
 * once.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "diag/account.h"
#include "diag/clock.h"
#include "diag/dns.h"
#include "diag/probe.h"

#define MAX_CONTACTS 10  /* Boulder's maxContactsPerRegistration */

enum diag_status diag_contact_lint(const char *contact, char *why, size_t whylen)
{
	if (!contact || !*contact) {
		snprintf(why, whylen, "empty contact");
		return DIAG_FAIL;
	}
	if (strncmp(contact, "mailto:", 7)) {
		snprintf(why, whylen, "only contact scheme 'mailto:' is supported (unsupportedContact)");
		return DIAG_FAIL;
	}
	const char *addr = contact + 7;
	if (strchr(addr, '?')) {
		snprintf(why, whylen, "contact email contains a question mark");
		return DIAG_FAIL;
	}
	if (strchr(addr, '#')) {
		snprintf(why, whylen, "contact email contains a '#'");
		return DIAG_FAIL;
	}
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			snprintf(why, whylen, "contact email contains non-ASCII characters");
			return DIAG_FAIL;
		}
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || !at[1] || strchr(addr, ' ') || strchr(addr, ',')) {
		snprintf(why, whylen, "unable to parse email address");
		return DIAG_FAIL;
	}
	const char *domain = at + 1;
	char norm[256], err[160];
	if (diag_domain_normalize(domain, norm, sizeof(norm), NULL, err, sizeof(err)) || strchr(domain, '*')) {
		snprintf(why, whylen, "contact email has invalid domain: %s", err);
		return DIAG_FAIL;
	}
	if (!strcmp(norm, "example.com") || !strcmp(norm, "example.net") || !strcmp(norm, "example.org")) {
		snprintf(why, whylen, "contact email has forbidden domain \"%s\"", norm);
		return DIAG_FAIL;
	}
	if (!diag_public_tld(norm)) {
		snprintf(why, whylen, "contact email has invalid domain: Domain name does not end with "
		         "a valid public suffix (TLD)");
		return DIAG_FAIL;
	}
	snprintf(why, whylen, "acceptable");
	return DIAG_OK;
}

static void check_key_file(const struct acme_key *k, const char *key_path, struct diag_report *r)
{
	struct diag_finding *f;
	if (key_path) {
		struct stat st;
		if (stat(key_path, &st) == 0) {
			if (st.st_mode & 077) {
				f = diag_add(r, DIAG_WARN, "acme.key.file", key_path,
				             "account key is readable by %s (mode %04o)",
				             st.st_mode & 007 ? "every user" : "its group", (unsigned)(st.st_mode & 07777));
				diag_set_hint(f, "Whoever reads this key controls the ACME account (revocation, "
				              "new orders): chmod 600 %s.", key_path);
			} else {
				f = diag_add(r, DIAG_OK, "acme.key.file", key_path, "account key mode %04o, owner only",
				             (unsigned)(st.st_mode & 07777));
			}
			diag_evidence(f, "mode", json_integer(st.st_mode & 07777));
		}
	}
	int ok = (!strcmp(k->alg, "RS256") && k->bits >= 2048 && k->bits <= 4096 && k->bits % 8 == 0) ||
	         !strcmp(k->alg, "ES256") || !strcmp(k->alg, "ES384");
	if (ok) {
		f = diag_add(r, DIAG_OK, "acme.key.type", key_path ? key_path : "key",
		             "%s key (%s), thumbprint %s", k->desc, k->alg, k->thumbprint);
	} else {
		f = diag_add(r, DIAG_FAIL, "acme.key.type", key_path ? key_path : "key",
		             "%s key: Let's Encrypt accepts RSA 2048-4096 and ECDSA P-256/P-384 account keys",
		             k->desc);
		diag_set_hint(f, "Create a new account with a supported key (e.g. certbot --key-type ecdsa, "
		              "lego --key-type ec256).");
	}
	diag_evidence(f, "alg", json_string(k->alg));
	diag_evidence(f, "thumbprint", json_string(k->thumbprint));
	diag_evidence(f, "jwk", json_incref(k->jwk));
}

/* Explain a problem document in one line. */
static char *problem_text(const struct acme_resp *rs)
{
	if (rs->err[0])
		return diag_strdup(rs->err);
	if (rs->prob.type[0])
		return diag_asprintf("HTTP %ld %s: %s", rs->status, acme_problem_short(&rs->prob), rs->prob.detail);
	return diag_asprintf("HTTP %ld", rs->status);
}


/* ---- the probe ---- */

#define MAX_RESOLVERS 16

static const ldns_rr_type contact_types[] = {LDNS_RR_TYPE_MX, LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
static const char *const contact_type_names[] = {"MX", "A", "AAAA"};
#define NTYPES (sizeof(contact_types) / sizeof(contact_types[0]))

/* One question about a contact's domain at one resolver, and its answer. */
struct lookup {
	struct acct_probe *p;
	size_t contact, server, type;
	int done;
	enum dns_status status;
	int rcode;          /* -1 without a parsed reply */
	size_t records;     /* RRs of the type asked in the answer */
	int null_mx;        /* MX "." only (RFC 7505: no mail) */
	char why[80];       /* what went wrong on our side */
};

struct contact {
	char *uri;
	char domain[256];
	enum diag_status lint;
	char why[300];
};

struct acct_probe {
	struct diag_probe head;   /* first */
	/* options, copied */
	char *directory, *key_path, *kid, *contact, *ca_bundle, *resolv_conf;
	const struct acme_key *key;
	struct diag_server *ns;
	size_t nns;
	int family, timeout_ms;
	double clock_warn_s, clock_fail_s;
	int no_clock;
	/* state */
	struct acme_client *c;
	struct acme_req *req;     /* the request in flight, NULL if none */
	char found[1024];         /* the key's account URL */
	struct dns_engine *eng;
	int own_eng;
	struct diag_server res[MAX_RESOLVERS];
	size_t nres;
	struct contact *contacts;
	size_t ncontacts, ncontacts_listed;
	struct lookup *lk;
	size_t nlk, pending;
};

static void acct_cancel(struct diag_probe *hp)
{
	struct acct_probe *p = (struct acct_probe *)hp;
	acme_client_free(p->c);   /* every request in flight, callbacks dropped */
	p->c = NULL;
	p->req = NULL;
	if (p->eng) {
		if (p->own_eng)
			dns_engine_free(p->eng);
		else
			for (size_t i = 0; i < p->nlk; i++)
				dns_engine_forget(p->eng, &p->lk[i]);
		p->eng = NULL;
	}
}

static void acct_destroy(struct diag_probe *hp)
{
	struct acct_probe *p = (struct acct_probe *)hp;
	for (size_t i = 0; i < p->ncontacts; i++)
		free(p->contacts[i].uri);
	free(p->contacts);
	free(p->lk);
	free(p->ns);
	free(p->directory);
	free(p->key_path);
	free(p->kid);
	free(p->contact);
	free(p->ca_bundle);
	free(p->resolv_conf);
	free(p);
}

static const struct diag_probe_ops acct_ops = {"account", acct_cancel, acct_destroy};

/* Our side failed (out of memory): say so, and stop. */
static void acct_internal_error(struct acct_probe *p, const char *what)
{
	struct diag_finding *f = diag_add(p->head.r, DIAG_ERROR, "acme.run", "", "cannot %s (out of memory)",
	                                  what);
	diag_set_hint(f, "The checks after this point did not run.");
	diag_probe_finish(&p->head);
}

static void on_lookup(void *arg, struct acme_resp *rs);
static void on_account(void *arg, struct acme_resp *rs);

/* The directory's findings; 0 when it has what the next steps need. */
static int judge_directory(struct acct_probe *p, const struct acme_resp *rs)
{
	struct diag_report *r = p->head.r;
	struct diag_finding *f;
	const json_t *dir = acme_client_directory(p->c);
	if (!dir) {
		char *why = rs->err[0] ? diag_strdup(rs->err) : diag_asprintf("HTTP %ld, %s", rs->status,
		            rs->json ? "not a JSON object" : "not JSON");
		f = diag_add(r, rs->err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.directory", p->directory,
		             "directory not usable: %s", why ? why : "out of memory");
		diag_set_hint(f, "%s", why && strstr(why, "certificate")
		              ? "The server's TLS certificate is not trusted: for a private CA pass "
		                "--ca-bundle with its root (--insecure only to look, never in a client)."
		              : "Check the URL (it ends in /directory for Let's Encrypt, /dir for Pebble) "
		                "and that this host reaches it.");
		free(why);
		return -1;
	}
	const char *need[] = {"newNonce", "newAccount", "newOrder"};
	int missing = 0;
	for (size_t i = 0; i < 3; i++)
		if (!acme_dir_url(p->c, need[i])) {
			diag_add(r, DIAG_FAIL, "acme.directory", p->directory, "directory lacks \"%s\"", need[i]);
			missing = 1;
		}
	json_t *meta = json_object_get(dir, "meta");
	int eab = json_is_true(json_object_get(meta, "externalAccountRequired"));
	const char *tos = json_string_value(json_object_get(meta, "termsOfService"));
	if (!missing) {
		f = diag_add(r, DIAG_OK, "acme.directory", p->directory, "directory ok%s%s",
		             eab ? "; external account binding required" : "", tos ? "; has terms of service" : "");
		diag_evidence(f, "externalAccountRequired", json_boolean(eab));
		diag_evidence(f, "termsOfService", diag_json_str(tos));
	}
	if (rs->date_s && !p->no_clock)
		diag_clock_judge(r, p->directory, NULL, "http-date",
		                 diag_clock_from_date(rs->sent_ms, rs->first_byte_ms, rs->date_s),
		                 p->clock_warn_s, p->clock_fail_s);
	return missing ? -1 : 0;
}

static void on_directory(void *arg, struct acme_resp *rs)
{
	struct acct_probe *p = arg;
	p->req = NULL;
	if (!p->key) {
		diag_add(p->head.r, DIAG_ERROR, "acme.run", "", "no account key given");
		diag_probe_finish(&p->head);
		return;
	}
	check_key_file(p->key, p->key_path, p->head.r);
	if (judge_directory(p, rs)) {
		diag_probe_finish(&p->head);
		return;
	}
	/* The account, found by its key. */
	json_t *lookup = json_pack("{s:b}", "onlyReturnExisting", 1);
	p->req = lookup ? acme_post(p->c, acme_dir_url(p->c, "newAccount"), p->key, NULL, lookup,
	                            on_lookup, p) : NULL;
	json_decref(lookup);
	if (!p->req)
		acct_internal_error(p, "look the account up");
}

static void judge_lookup(struct acct_probe *p, const struct acme_resp *rs)
{
	struct diag_report *r = p->head.r;
	struct diag_finding *f;
	if (!rs->err[0] && (rs->status == 200 || rs->status == 201) && rs->location[0]) {
		snprintf(p->found, sizeof(p->found), "%s", rs->location);
		f = diag_add(r, DIAG_OK, "acme.account.lookup", p->found, "an account exists for this key");
		diag_evidence(f, "url", diag_json_str(p->found));
		diag_evidence(f, "nonce_retries", json_integer(rs->nonce_retries));
		return;
	}
	char *why = problem_text(rs);
	const char *type = acme_problem_short(&rs->prob);
	int noacct = !strcmp(type, "accountDoesNotExist");
	int deact = strstr(rs->prob.detail, "deactivated") != NULL;
	int revoked = strstr(rs->prob.detail, "revoked") != NULL;
	f = diag_add(r, rs->err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.account.lookup", p->directory,
	             "%s: %s", noacct ? "no account exists for this key"
	             : deact ? "the account for this key is deactivated"
	             : revoked ? "the account for this key is revoked"
	             : rs->err[0] ? "account lookup not made" : "account lookup refused",
	             why ? why : "out of memory");
	diag_set_hint(f, "%s", noacct
	              ? "The key is not registered at this CA (another server, e.g. staging vs "
	                "production, or the account was never created): register again, or point "
	                "the client at the key it registered with."
	              : deact || revoked
	              ? "A deactivated account cannot be used again: register a new account with a "
	                "new key (certbot register, or delete the client's account folder / "
	                "cert-manager's account Secret so it registers anew)."
	              : rs->err[0]
	              ? "The CA could not be asked (the reason above): check --directory, the network "
	                "path to the CA, --ca-bundle, or a proxy in between."
	              : "See the CA's message.");
	diag_evidence(f, "problem", rs->prob.type[0] ? diag_json_str(rs->prob.type) : json_null());
	diag_evidence(f, "status", json_integer(rs->status));
	diag_evidence(f, "nonce_retries", json_integer(rs->nonce_retries));
	free(why);
}

/* The kid the client uses, against the key's account. */
static void judge_kid(struct acct_probe *p)
{
	struct diag_report *r = p->head.r;
	if (p->kid && p->found[0]) {
		if (!strcmp(p->kid, p->found)) {
			diag_add(r, DIAG_OK, "acme.account.kid", p->kid, "the client's kid is this key's account");
		} else {
			struct diag_finding *f = diag_add(r, DIAG_FAIL, "acme.account.kid", p->kid,
			                                  "the client signs with kid %s, but this key's account is %s",
			                                  p->kid, p->found);
			diag_set_hint(f, "A stale account URL (another server, or an account recreated): the CA "
			              "answers \"Account ... not found\" or a signature error. Update the stored "
			              "account URL or re-register (cert-manager: delete the Issuer's account Secret).");
		}
	} else if (!p->kid) {
		diag_add(r, DIAG_SKIP, "acme.account.kid", "account", "no kid given (--kid URL) to compare");
	}
}

static void on_lookup(void *arg, struct acme_resp *rs)
{
	struct acct_probe *p = arg;
	p->req = NULL;
	judge_lookup(p, rs);
	judge_kid(p);
	/* The account itself, fetched with kid as every later request is. */
	const char *acct = p->found[0] ? p->found : p->kid;
	if (!acct) {
		diag_probe_finish(&p->head);
		return;
	}
	p->req = acme_post(p->c, acct, p->key, acct, NULL, on_account, p);
	if (!p->req)
		acct_internal_error(p, "fetch the account");
}

/* The account's status; returns its contact list (new reference) or NULL. */
static json_t *judge_account(struct acct_probe *p, const char *acct, const struct acme_resp *rs)
{
	struct diag_report *r = p->head.r;
	struct diag_finding *f;
	json_t *contacts = NULL;
	if (!rs->err[0] && rs->status == 200 && json_is_object(rs->json)) {
		const char *st = json_string_value(json_object_get(rs->json, "status"));
		if (st && !strcmp(st, "valid")) {
			f = diag_add(r, DIAG_OK, "acme.account.status", acct, "account status valid; a kid-signed "
			             "POST-as-GET is accepted");
		} else {
			f = diag_add(r, DIAG_FAIL, "acme.account.status", acct, "account status %s", st ? st : "missing");
			diag_set_hint(f, "Only a valid account can order certificates: register a new account.");
		}
		diag_evidence(f, "account", json_incref(rs->json));
		contacts = json_incref(json_object_get(rs->json, "contact"));
	} else {
		char *why = problem_text(rs);
		int deact = strstr(rs->prob.detail, "deactivated") != NULL;
		f = diag_add(r, rs->err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.account.status", acct,
		             "%s: %s", deact ? "account deactivated" : "the CA refused a kid-signed request",
		             why ? why : "out of memory");
		diag_set_hint(f, "%s", deact ? "A deactivated account cannot be used again: register a new one."
		              : "The account URL and the key do not agree at this CA; check the kid the "
		                "client stores (acme.account.kid).");
		diag_evidence(f, "problem", rs->prob.type[0] ? diag_json_str(rs->prob.type) : json_null());
		free(why);
	}
	/* every badNonce retry of the run (lookup and this request) */
	diag_evidence(f, "nonce_retries", json_integer(acme_client_nonce_retries(p->c)));
	return contacts;
}

static int contacts_start(struct acct_probe *p, const json_t *list);

static void on_account(void *arg, struct acme_resp *rs)
{
	struct acct_probe *p = arg;
	p->req = NULL;
	const char *acct = p->found[0] ? p->found : p->kid;
	json_t *list = judge_account(p, acct, rs);
	int ok = !rs->err[0] && rs->status == 200 && json_is_object(rs->json);
	if (!ok && !p->contact) {  /* no account, and no contact on record */
		json_decref(list);
		diag_probe_finish(&p->head);
		return;
	}
	int started = contacts_start(p, list);
	json_decref(list);
	if (started < 0)
		acct_internal_error(p, "check the contacts");
	else if (started == 0)
		diag_probe_finish(&p->head);
}

/* ---- contacts ---- */

static void contacts_report(struct acct_probe *p);

static void on_dns(void *arg, struct dns_q *q)
{
	struct lookup *l = arg;
	struct acct_probe *p = l->p;
	l->done = 1;
	l->status = q->status;
	l->rcode = dns_q_rcode(q);
	snprintf(l->why, sizeof(l->why), "%s", dns_q_outcome(q));
	ldns_rr_list *rrs = dns_q_answer(q, contact_types[l->type], NULL);
	l->records = rrs ? ldns_rr_list_rr_count(rrs) : 0;
	if (l->records == 1 && contact_types[l->type] == LDNS_RR_TYPE_MX) {
		ldns_rr *mx = ldns_rr_list_rr(rrs, 0);
		char *to = ldns_rr_rd_count(mx) == 2 ? dns_name_str(ldns_rr_rdf(mx, 1)) : NULL;
		l->null_mx = to && !strcmp(to, ".");
		free(to);
	}
	ldns_rr_list_deep_free(rrs);
	if (--p->pending == 0) {
		contacts_report(p);
		diag_probe_finish(&p->head);
	}
}

/* Ranked: across resolvers, the highest wins. */
enum answer { ANS_UNKNOWN, ANS_EMPTY, ANS_NX, ANS_NULL_MX, ANS_ADDR, ANS_MX };

/* What one resolver said about a domain, from its MX, A and AAAA answers
 * (l[0..NTYPES)); *bad: the first answer that says nothing (our side). */
static enum answer resolver_answer(const struct lookup *l, const struct lookup **bad)
{
	if (l[0].rcode == LDNS_RCODE_NOERROR && l[0].null_mx)
		return ANS_NULL_MX;
	if (l[0].rcode == LDNS_RCODE_NOERROR && l[0].records)
		return ANS_MX;
	int nx = 0, all_noerror = 1;
	for (size_t t = 0; t < NTYPES; t++) {
		if (l[t].rcode == LDNS_RCODE_NOERROR && l[t].records)
			return ANS_ADDR;
		if (l[t].rcode == LDNS_RCODE_NXDOMAIN) {
			nx = 1;
		} else if (l[t].rcode != LDNS_RCODE_NOERROR) {
			all_noerror = 0;
			if (!*bad)
				*bad = &l[t];
		}
	}
	return nx ? ANS_NX : all_noerror ? ANS_EMPTY : ANS_UNKNOWN;
}

static json_t *lookups_evidence(const struct acct_probe *p, const struct lookup *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->nres * NTYPES; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "server", p->res[l[i].server].label,
		                                   "type", contact_type_names[l[i].type],
		                                   "result", l[i].why, "records", (json_int_t)l[i].records));
	return a;
}

/* One contact that passed the lint: judged by what the resolvers said. */
static void judge_contact(struct acct_probe *p, const struct contact *ct, const struct lookup *l)
{
	struct diag_report *r = p->head.r;
	enum answer best = ANS_UNKNOWN;
	const struct lookup *bad = NULL, *nx = NULL;
	for (size_t s = 0; s < p->nres; s++) {
		const struct lookup *ls = l + s * NTYPES;
		enum answer a = resolver_answer(ls, &bad);
		if (a == ANS_NX && !nx)
			nx = ls;
		if (a > best)
			best = a;
	}
	struct diag_finding *f;
	if (best == ANS_MX || best == ANS_ADDR) {
		f = diag_add(r, DIAG_OK, "acme.account.contact", ct->uri, "acceptable to Let's Encrypt; %s %s",
		             ct->domain, best == ANS_MX ? "has MX records" : "has address records");
	} else if (best == ANS_UNKNOWN) {
		if (bad)
			f = diag_add(r, DIAG_ERROR, "acme.account.contact", ct->uri, "could not check the domain %s: "
			             "%s %s at %s", ct->domain, contact_type_names[bad->type], bad->why,
			             p->res[bad->server].label);
		else
			f = diag_add(r, DIAG_ERROR, "acme.account.contact", ct->uri, "could not check the domain %s: "
			             "%s", ct->domain, p->nres ? "no answer" : "no resolver to ask (none usable in "
			             "--ns or resolv.conf)");
		if (bad)
			diag_set_detail(f, "%s asked for %s %s: %s.", p->res[bad->server].label, ct->domain,
			                contact_type_names[bad->type], bad->why);
		diag_set_hint(f, "This is on our side: the resolver gave no answer, which says nothing about "
		              "the contact's domain. Check the resolver (--ns, /etc/resolv.conf) and run again.");
	} else {
		f = diag_add(r, DIAG_WARN, "acme.account.contact", ct->uri, "the domain %s %s: mail from the CA "
		             "may not arrive", ct->domain,
		             best == ANS_NULL_MX ? "publishes a null MX (RFC 7505: it takes no mail)"
		             : best == ANS_NX ? "does not exist (NXDOMAIN)" : "has neither MX nor address records");
		diag_set_hint(f, "%s", best == ANS_NULL_MX ? "Use an address at a domain that accepts mail."
		              : "Use an address whose domain has MX or address records.");
		if (best == ANS_NX && nx)
			diag_set_detail(f, "%s answered NXDOMAIN for %s.", p->res[nx->server].label, ct->domain);
	}
	diag_evidence(f, "domain", diag_json_str(ct->domain));
	if (p->nres)
		diag_evidence(f, "lookups", lookups_evidence(p, l));
}

/* Every contact's finding, in the account's order. */
static void contacts_report(struct acct_probe *p)
{
	for (size_t i = 0; i < p->ncontacts; i++) {
		const struct contact *ct = &p->contacts[i];
		if (ct->lint != DIAG_OK) {
			struct diag_finding *f = diag_add(p->head.r, DIAG_FAIL, "acme.account.contact", ct->uri,
			                                  "Let's Encrypt would refuse it: invalidContact \"Error "
			                                  "validating contact(s) :: %s\"", ct->why);
			diag_set_hint(f, "Register with an address under a domain you receive mail for "
			              "(cert-manager: the Issuer's spec.acme.email; certbot -m; lego --email). "
			              "Pebble accepts what Let's Encrypt refuses, so a lab run proves nothing here.");
			continue;
		}
		judge_contact(p, ct, p->lk ? p->lk + i * p->nres * NTYPES : NULL);
	}
}

/* The contacts to check: the account's, else the one the client has on
 * record. 0 when there is none (a skip finding says so), -1 on ENOMEM. */
static int contacts_collect(struct acct_probe *p, const json_t *list)
{
	size_t n = json_is_array(list) ? json_array_size(list) : 0;
	if (n == 0 && !p->contact) {
		diag_add(p->head.r, DIAG_SKIP, "acme.account.contact", "account",
		         "no contact on record (Boulder no longer stores contacts)");
		return 0;
	}
	if (n > MAX_CONTACTS) {
		struct diag_finding *f = diag_add(p->head.r, DIAG_FAIL, "acme.account.contact", "account",
		                                  "too many contacts provided: %zu > %d", n, MAX_CONTACTS);
		diag_set_hint(f, "Keep at most %d contacts.", MAX_CONTACTS);
	}
	size_t keep = n == 0 ? 1 : n < MAX_CONTACTS ? n : MAX_CONTACTS;
	if (!(p->contacts = calloc(keep, sizeof(*p->contacts))))
		return -1;
	for (size_t i = 0; i < keep; i++) {
		struct contact *ct = &p->contacts[i];
		const char *uri = n ? json_string_value(json_array_get(list, i)) : p->contact;
		if (!(ct->uri = diag_strdup(uri ? uri : "?")))
			return -1;
		p->ncontacts++;
		ct->lint = diag_contact_lint(uri, ct->why, sizeof(ct->why));
		if (ct->lint == DIAG_OK)
			snprintf(ct->domain, sizeof(ct->domain), "%s", strrchr(uri, '@') + 1);
	}
	return 1;
}

/* Ask every resolver about every linted contact's domain, all at once.
 * 1 while answers are awaited, 0 when nothing is, -1 on ENOMEM. */
static int contacts_ask(struct acct_probe *p)
{
	p->nres = diag_resolvers(p->ns, p->nns, p->resolv_conf, p->family, p->res, MAX_RESOLVERS);
	size_t linted = 0;
	for (size_t i = 0; i < p->ncontacts; i++)
		linted += p->contacts[i].lint == DIAG_OK;
	if (!linted || !p->nres)
		return 0;
	if (!p->eng) {
		if (!(p->eng = dns_engine_new(p->head.loop, p->timeout_ms)))
			return -1;
		p->own_eng = 1;
	}
	p->nlk = p->ncontacts * p->nres * NTYPES;
	if (!(p->lk = calloc(p->nlk, sizeof(*p->lk))))
		return -1;
	p->pending = 1;  /* answers may come inside dns_ask(): finish only below */
	for (size_t i = 0; i < p->nlk; i++) {
		struct lookup *l = &p->lk[i];
		*l = (struct lookup){ .p = p, .contact = i / (p->nres * NTYPES),
		                      .server = i / NTYPES % p->nres, .type = i % NTYPES, .rcode = -1 };
		const struct contact *ct = &p->contacts[l->contact];
		if (ct->lint != DIAG_OK)
			continue;
		p->pending++;
		if (!dns_ask(p->eng, &p->res[l->server], ct->domain, contact_types[l->type], LDNS_RR_CLASS_IN,
		             DNS_Q_RD, on_dns, l)) {
			snprintf(l->why, sizeof(l->why), "not sent (out of memory)");
			p->pending--;
		}
	}
	return --p->pending ? 1 : 0;
}

/* 1 while lookups are awaited (their end finishes the probe), 0 when the
 * findings are written, -1 on ENOMEM. */
static int contacts_start(struct acct_probe *p, const json_t *list)
{
	int rc = contacts_collect(p, list);
	if (rc <= 0)
		return rc;
	if ((rc = contacts_ask(p)) != 0)
		return rc;
	contacts_report(p);
	return 0;
}

/* ---- start, run ---- */

static int copy_opts(struct acct_probe *p, const struct account_opts *o)
{
	p->key = o->key;
	p->family = o->family;
	p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	p->clock_warn_s = o->clock_warn_s > 0 ? o->clock_warn_s : DIAG_CLOCK_WARN_S;
	p->clock_fail_s = o->clock_fail_s > 0 ? o->clock_fail_s : DIAG_CLOCK_FAIL_S;
	p->no_clock = o->no_clock;
	p->eng = o->engine;
	if (o->nns) {
		if (!(p->ns = calloc(o->nns, sizeof(*p->ns))))
			return -1;
		memcpy(p->ns, o->ns, o->nns * sizeof(*p->ns));
		p->nns = o->nns;
	}
	const char *const src[] = {o->directory, o->key_path, o->kid, o->contact, o->ca_bundle, o->resolv_conf};
	char **dst[] = {&p->directory, &p->key_path, &p->kid, &p->contact, &p->ca_bundle, &p->resolv_conf};
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (src[i] && !(*dst[i] = strdup(src[i])))
			return -1;
	return 0;
}

struct diag_probe *diag_account_start(struct diag_loop *loop, const struct account_opts *o,
                                      struct diag_report *r, diag_done_cb done, void *arg)
{
	struct acct_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	diag_probe_init(&p->head, &acct_ops, loop, r, done, arg);
	if (copy_opts(p, o) || !(p->c = acme_client_new(loop, p->ca_bundle, o->insecure, p->timeout_ms)) ||
	    !(p->req = acme_directory(p->c, p->directory, on_directory, p))) {
		acct_cancel(&p->head);
		acct_destroy(&p->head);
		return NULL;
	}
	return &p->head;
}

static struct diag_probe *start_adapter(struct diag_loop *loop, const void *opts, struct diag_report *r,
                                        diag_done_cb done, void *arg)
{
	return diag_account_start(loop, opts, r, done, arg);
}

int diag_account_run(const struct account_opts *o, struct diag_report *r)
{
	return diag_probe_run(start_adapter, o, r, "acme.run");
}
