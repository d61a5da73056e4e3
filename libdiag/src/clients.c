/* SPDX-License-Identifier: ISC */
/* clients.c - the ACME client's own checks, judged by what each client does. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/clients.h"
#include "sbuf.h"

static const char *const names[] = {"cert-manager", "lego", "certbot", "acme.sh"};
#define NCLIENTS (sizeof(names) / sizeof(names[0]))

int diag_client_parse(const char *s, unsigned *out)
{
	if (!strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	for (size_t i = 0; i < NCLIENTS; i++)
		if (!strcmp(s, names[i])) {
			*out = 1u << i;
			return 0;
		}
	return -1;
}

/* A step some clients take before the CA is asked. */
struct step {
	const char *what;                  /* for the skip: "the SOA walk" */
	unsigned who;                      /* the clients that take it */
	const char *not_taken[NCLIENTS];   /* why a client does not (NULL where it does) */
	const char *way_round[NCLIENTS];   /* a client's setting that avoids it */
};

static const struct step soa_walk = {
	"the SOA walk to find the zone",
	DIAG_CLIENT_CERT_MANAGER | DIAG_CLIENT_LEGO,
	{NULL, NULL,
	 "certbot's DNS plugins find the zone through the provider's API (dns-rfc2136 asks its "
	 "configured server)",
	 "acme.sh finds the zone through the provider's API"},
	{"cert-manager --dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53",
	 "lego --dns.resolvers 1.1.1.1:53", NULL, NULL},
};

static const struct step resolvers = {
	"lookups at the host's resolvers",
	DIAG_CLIENT_CERT_MANAGER | DIAG_CLIENT_LEGO,
	{NULL, NULL, "certbot makes no DNS check of its own (it sleeps --<plugin>-propagation-seconds)",
	 "acme.sh checks propagation through public DNS-over-HTTPS resolvers, not the host's"},
	{"cert-manager --dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53",
	 "lego --dns.resolvers 1.1.1.1:53", NULL, NULL},
};

static const struct step auth_check = {
	"the check at every authoritative nameserver",
	DIAG_CLIENT_CERT_MANAGER | DIAG_CLIENT_LEGO,
	{NULL, NULL, "certbot makes no DNS check of its own (it sleeps --<plugin>-propagation-seconds)",
	 "acme.sh checks propagation through public DNS-over-HTTPS resolvers"},
	{"cert-manager --dns01-recursive-nameservers-only",
	 "lego --dns.propagation-disable-ans (v4: --dns.disable-cp)", NULL, NULL},
};

static const struct step resolver_txt = {
	"the TXT check at the host's resolvers",
	DIAG_CLIENT_LEGO,
	{"cert-manager checks the authoritative servers (the resolvers only with "
	 "--dns01-recursive-nameservers-only)",
	 NULL, "certbot makes no DNS check of its own (it sleeps --<plugin>-propagation-seconds)",
	 "acme.sh checks propagation through public DNS-over-HTTPS resolvers, not the host's"},
	{NULL, "lego --dns.propagation-disable-rns (v5; v4 checks them only with "
	 "--dns.propagation-rns)", NULL, NULL},
};

/* The step a finding is about, or NULL when it is the CA's view. */
static const struct step *step_of(const struct diag_finding *f)
{
	if (!strcmp(f->id, "dns.resolver.soa-filtered") || !strcmp(f->id, "dns.zone.soa") ||
	    !strcmp(f->id, "dns.zone.split-horizon"))
		return &soa_walk;
	if (!strcmp(f->id, "dns.resolver.reachable") || !strcmp(f->id, "dns.resolver.recursive"))
		return &resolvers;
	if ((!strcmp(f->id, "dns.auth.server") || !strcmp(f->id, "dns01.txt")) &&
	    f->actor == DIAG_ACTOR_CLIENT)
		return &auth_check;
	const char *role = json_string_value(json_object_get(f->evidence, "role"));
	if (!strcmp(f->id, "dns01.txt") && role && !strcmp(role, "resolver"))
		return &resolver_txt;
	return NULL;
}

static void judge(struct diag_finding *f, const struct step *st, unsigned clients)
{
	struct sbuf b = {0};
	unsigned doers = clients & st->who;
	if (!doers) {
		f->status = DIAG_SKIP;
		if (!clients) {
			sb_printf(&b, "Not judged (--client none: the CA's view alone): %s is an ACME "
			          "client's own step, the CA does not take it.", st->what);
		} else {
			sb_printf(&b, "Not judged: %s is a step the chosen client does not take:", st->what);
			for (size_t i = 0; i < NCLIENTS; i++)
				if (clients & (1u << i))
					sb_printf(&b, " %s.", st->not_taken[i]);
		}
		char *d = sb_take(&b);
		if (d) {
			free(f->detail);
			f->detail = d;
		}
		struct sbuf t = {0};
		sb_printf(&t, "not judged (%s): %s", clients ? "not a step of the chosen client"
		          : "--client none", f->summary);
		char *sum = sb_take(&t);
		if (sum) {
			free(f->summary);
			f->summary = sum;
		}
		return;
	}
	for (size_t i = 0; i < NCLIENTS; i++)
		if (doers & (1u << i))
			sb_printf(&b, "%s%s", b.len ? ", " : "", names[i]);
	char *who = sb_take(&b);
	if (who) {
		free(f->clients);
		f->clients = who;
	}
	if (!f->actor)
		f->actor = DIAG_ACTOR_CLIENT;
	struct sbuf h = {0};
	sb_printf(&h, "%s", f->hint ? f->hint : "");
	int first = 1;
	for (size_t i = 0; i < NCLIENTS; i++)
		if ((doers & (1u << i)) && st->way_round[i] && (!f->hint || !strstr(f->hint, st->way_round[i]))) {
			sb_printf(&h, "%s%s", first ? (f->hint ? " Client settings: " : "Client settings: ")
			          : "; ", st->way_round[i]);
			first = 0;
		}
	if (!first)
		sb_printf(&h, ".");
	char *hint = sb_take(&h);
	if (hint) {
		free(f->hint);
		f->hint = hint;
	}
}

void diag_clients_judge(struct diag_report *r, unsigned clients)
{
	for (size_t i = 0; i < r->n; i++) {
		struct diag_finding *f = r->v[i];
		if (f->status != DIAG_WARN && f->status != DIAG_FAIL)
			continue;
		const struct step *st = step_of(f);
		if (st)
			judge(f, st, clients);
	}
}
