/* account.c - is this ACME account usable, as the CA sees it? */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "diag/account.h"
#include "diag/clock.h"
#include "diag/dns.h"

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

static void check_key_file(const struct account_opts *o, struct diag_report *r)
{
	const struct acme_key *k = o->key;
	struct diag_finding *f;
	if (o->key_path) {
		struct stat st;
		if (stat(o->key_path, &st) == 0) {
			if (st.st_mode & 077) {
				f = diag_add(r, DIAG_WARN, "acme.key.file", o->key_path,
				             "account key is readable by %s (mode %04o)",
				             st.st_mode & 007 ? "every user" : "its group", (unsigned)(st.st_mode & 07777));
				diag_set_hint(f, "Whoever reads this key controls the ACME account (revocation, "
				              "new orders): chmod 600 %s.", o->key_path);
			} else {
				f = diag_add(r, DIAG_OK, "acme.key.file", o->key_path, "account key mode %04o, owner only",
				             (unsigned)(st.st_mode & 07777));
			}
			diag_evidence(f, "mode", json_integer(st.st_mode & 07777));
		}
	}
	int ok = (!strcmp(k->alg, "RS256") && k->bits >= 2048 && k->bits <= 4096 && k->bits % 8 == 0) ||
	         !strcmp(k->alg, "ES256") || !strcmp(k->alg, "ES384");
	if (ok) {
		f = diag_add(r, DIAG_OK, "acme.key.type", o->key_path ? o->key_path : "key",
		             "%s key (%s), thumbprint %s", k->desc, k->alg, k->thumbprint);
	} else {
		f = diag_add(r, DIAG_FAIL, "acme.key.type", o->key_path ? o->key_path : "key",
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

static void check_contacts(const struct account_opts *o, const json_t *account, struct diag_report *r)
{
	json_t *list = json_object_get(account, "contact");
	size_t n = json_is_array(list) ? json_array_size(list) : 0;
	if (n == 0 && o->contact) {
		list = json_pack("[s]", o->contact);
		n = 1;
	} else {
		json_incref(list);
	}
	if (n == 0) {
		diag_add(r, DIAG_SKIP, "acme.account.contact", "account",
		         "no contact on record (Boulder no longer stores contacts)");
		json_decref(list);
		return;
	}
	if (n > MAX_CONTACTS) {
		struct diag_finding *f = diag_add(r, DIAG_FAIL, "acme.account.contact", "account",
		                                  "too many contacts provided: %zu > %d", n, MAX_CONTACTS);
		diag_set_hint(f, "Keep at most %d contacts.", MAX_CONTACTS);
	}
	for (size_t i = 0; i < n && i < MAX_CONTACTS; i++) {
		const char *c = json_string_value(json_array_get(list, i));
		char why[300];
		enum diag_status st = diag_contact_lint(c, why, sizeof(why));
		struct diag_finding *f;
		if (st != DIAG_OK) {
			f = diag_add(r, DIAG_FAIL, "acme.account.contact", c ? c : "?",
			             "Let's Encrypt would refuse it: invalidContact \"Error validating contact(s) :: %s\"",
			             why);
			diag_set_hint(f, "Register with an address under a domain you receive mail for "
			              "(cert-manager: the Issuer's spec.acme.email; certbot -m; lego --email). "
			              "Pebble accepts what Let's Encrypt refuses, so a lab run proves nothing here.");
			continue;
		}
		/* Does the domain exist at all? */
		const char *domain = strrchr(c, '@') + 1;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		int rc = getaddrinfo(domain, NULL, &hints, &res);
		if (res)
			freeaddrinfo(res);
		if (rc) {
			f = diag_add(r, DIAG_WARN, "acme.account.contact", c,
			             "the domain %s does not resolve here (%s): mail from the CA may not arrive",
			             domain, gai_strerror(rc));
			diag_set_hint(f, "Use an address whose domain has MX or address records.");
		} else {
			diag_add(r, DIAG_OK, "acme.account.contact", c, "acceptable to Let's Encrypt; %s resolves",
			         domain);
		}
	}
	json_decref(list);
}

int diag_account_run(const struct account_opts *o, struct diag_report *r)
{
	struct acme_client c;
	struct acme_resp rs = {0};
	struct diag_finding *f;
	char *why = NULL;
	if (acme_client_init(&c, o->ca_bundle, o->insecure, o->timeout_ms)) {
		diag_add(r, DIAG_ERROR, "acme.run", "", "cannot start (out of memory)");
		return -1;
	}
	check_key_file(o, r);

	/* The directory. */
	if (acme_directory(&c, o->directory, &rs)) {
		why = rs.err[0] ? diag_strdup(rs.err) : diag_asprintf("HTTP %ld, %s", rs.status,
		      rs.json ? "not a JSON object" : "not JSON");
		f = diag_add(r, rs.err[0] ? DIAG_ERROR : DIAG_FAIL, "acme.directory", o->directory,
		             "directory not usable: %s", why);
		diag_set_hint(f, "%s", strstr(why, "certificate")
		              ? "The server's TLS certificate is not trusted: for a private CA pass "
		                "--ca-bundle with its root (--insecure only to look, never in a client)."
		              : "Check the URL (it ends in /directory for Let's Encrypt, /dir for Pebble) "
		                "and that this host reaches it.");
		goto out;
	}
	const char *need[] = {"newNonce", "newAccount", "newOrder"};
	int missing = 0;
	for (size_t i = 0; i < 3; i++)
		if (!acme_dir_url(&c, need[i])) {
			f = diag_add(r, DIAG_FAIL, "acme.directory", o->directory, "directory lacks \"%s\"", need[i]);
			missing = 1;
		}
	json_t *meta = json_object_get(c.dir, "meta");
	int eab = json_is_true(json_object_get(meta, "externalAccountRequired"));
	const char *tos = json_string_value(json_object_get(meta, "termsOfService"));
	if (!missing) {
		f = diag_add(r, DIAG_OK, "acme.directory", o->directory, "directory ok%s%s",
		             eab ? "; external account binding required" : "", tos ? "; has terms of service" : "");
		diag_evidence(f, "externalAccountRequired", json_boolean(eab));
		diag_evidence(f, "termsOfService", tos ? json_string(tos) : json_null());
	}
	if (rs.date_s)
		diag_clock_judge(r, o->directory, NULL, "http-date",
		                 diag_clock_from_date(rs.sent_ms, rs.first_byte_ms, rs.date_s),
		                 o->clock_warn_s, o->clock_fail_s);
	acme_resp_free(&rs);
	if (missing)
		goto out;

	/* The account, found by its key. */
	json_t *lookup = json_pack("{s:b}", "onlyReturnExisting", 1);
	int rc = acme_post(&c, acme_dir_url(&c, "newAccount"), o->key, NULL, lookup, &rs);
	json_decref(lookup);
	char found[1024] = "";
	if (rc == 0 && (rs.status == 200 || rs.status == 201) && rs.location[0]) {
		snprintf(found, sizeof(found), "%s", rs.location);
		f = diag_add(r, DIAG_OK, "acme.account.lookup", found, "an account exists for this key");
		diag_evidence(f, "url", json_string(found));
	} else {
		free(why);
		why = problem_text(&rs);
		const char *type = acme_problem_short(&rs.prob);
		int noacct = !strcmp(type, "accountDoesNotExist");
		int deact = strstr(rs.prob.detail, "deactivated") != NULL;
		int revoked = strstr(rs.prob.detail, "revoked") != NULL;
		f = diag_add(r, rc ? DIAG_ERROR : DIAG_FAIL, "acme.account.lookup", o->directory,
		             "%s: %s", noacct ? "no account exists for this key"
		             : deact ? "the account for this key is deactivated"
		             : revoked ? "the account for this key is revoked"
		             : "account lookup refused", why);
		diag_set_hint(f, "%s", noacct
		              ? "The key is not registered at this CA (another server, e.g. staging vs "
		                "production, or the account was never created): register again, or point "
		                "the client at the key it registered with."
		              : deact || revoked
		              ? "A deactivated account cannot be used again: register a new account with a "
		                "new key (certbot register, or delete the client's account folder / "
		                "cert-manager's account Secret so it registers anew)."
		              : "See the CA's message.");
		diag_evidence(f, "problem", rs.prob.type[0] ? json_string(rs.prob.type) : json_null());
		diag_evidence(f, "status", json_integer(rs.status));
	}
	acme_resp_free(&rs);

	/* The kid the client uses. */
	if (o->kid && found[0]) {
		if (!strcmp(o->kid, found))
			diag_add(r, DIAG_OK, "acme.account.kid", o->kid, "the client's kid is this key's account");
		else {
			f = diag_add(r, DIAG_FAIL, "acme.account.kid", o->kid,
			             "the client signs with kid %s, but this key's account is %s", o->kid, found);
			diag_set_hint(f, "A stale account URL (another server, or an account recreated): the CA "
			              "answers \"Account ... not found\" or a signature error. Update the stored "
			              "account URL or re-register (cert-manager: delete the Issuer's account Secret).");
		}
	} else if (!o->kid) {
		diag_add(r, DIAG_SKIP, "acme.account.kid", "account", "no kid given (--kid URL) to compare");
	}

	/* The account itself, fetched with kid as every later request is. */
	const char *acct = found[0] ? found : o->kid;
	if (!acct)
		goto out;
	rc = acme_post(&c, acct, o->key, acct, NULL, &rs);
	if (rc == 0 && rs.status == 200 && json_is_object(rs.json)) {
		const char *st = json_string_value(json_object_get(rs.json, "status"));
		if (st && !strcmp(st, "valid")) {
			f = diag_add(r, DIAG_OK, "acme.account.status", acct, "account status valid; a kid-signed "
			             "POST-as-GET is accepted");
		} else {
			f = diag_add(r, DIAG_FAIL, "acme.account.status", acct, "account status %s", st ? st : "missing");
			diag_set_hint(f, "Only a valid account can order certificates: register a new account.");
		}
		diag_evidence(f, "account", json_incref(rs.json));
		check_contacts(o, rs.json, r);
	} else {
		free(why);
		why = problem_text(&rs);
		int deact = strstr(rs.prob.detail, "deactivated") != NULL;
		f = diag_add(r, rc ? DIAG_ERROR : DIAG_FAIL, "acme.account.status", acct,
		             "%s: %s", deact ? "account deactivated" : "the CA refused a kid-signed request", why);
		diag_set_hint(f, "%s", deact ? "A deactivated account cannot be used again: register a new one."
		              : "The account URL and the key do not agree at this CA; check the kid the "
		                "client stores (acme.account.kid).");
		diag_evidence(f, "problem", rs.prob.type[0] ? json_string(rs.prob.type) : json_null());
		if (o->contact)
			check_contacts(o, NULL, r);
	}
	diag_evidence(f, "nonce_retries", json_integer(c.nonce_retries));
out:
	free(why);
	acme_resp_free(&rs);
	acme_client_free(&c);
	return 0;
}
