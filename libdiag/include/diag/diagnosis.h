/* SPDX-License-Identifier: ISC */
/*
 * diagnosis.h - root causes from a report's findings, in causal order.
 *
 * A report from several probes says many things that follow from one
 * cause: a resolver that filters SOA makes every SOA walk through it fail;
 * a dead IPv6 path makes the CA fall back (or fail) and the addresses
 * disagree. A diagnosis picks the causes among the findings that are not
 * ok, orders them so that a cause comes before what it explains, and lists
 * for each the findings it explains. Every finding that is not ok (and
 * not skip) is either a cause or explained by one: nothing is hidden.
 */
#ifndef DIAG_DIAGNOSIS_H
#define DIAG_DIAGNOSIS_H

#include <stddef.h>

#include <jansson.h>

#include "diag/finding.h"
#include "diag/render.h"

/* Whose step a finding that is not ok makes fail: the finding's own actor
 * when its probe set one, else the rule for its id (as the diagnosis
 * ranks it), else its area's. UNKNOWN for ok, skip and error findings
 * (error: our side, nobody's step). */
enum diag_actor diag_finding_actor(const struct diag_finding *f);

const char *diag_actor_name(enum diag_actor a);  /* "ca", "client", "both", "unknown" */

struct diag_cause {
	const struct diag_finding *root;  /* the finding that is the cause */
	const char *title;                /* what it is, in a few words */
	enum diag_actor actor;
	int rank;                         /* causal order: lower comes first */
	enum diag_status impact;          /* the worst of the cause and what it explains */
	const struct diag_finding **explains;  /* findings that follow from it */
	size_t nexplains;
};

struct diag_diagnosis {
	struct diag_cause *v;
	size_t n;
};

/* The causes among r's findings: those that make issuance fail first
 * (impact error or fail, then warn), in causal order within each (then
 * report order). A cause always comes before what it explains, which is
 * listed under it. NULL when out of memory. An empty diagnosis (n 0)
 * means every finding is ok or skip. */
struct diag_diagnosis *diag_diagnose(const struct diag_report *r);
void diag_diagnosis_free(struct diag_diagnosis *d);

/*
 * [{"rank":1,"id":...,"target":...,"domain":...|null,"status":...,"impact":...,"title":...,
 *   "actor":"ca|client|both|unknown","who_fails":...,"summary":...,"hint":...|null,
 *   "explains":[{"id","target","domain","status"}...]}...]. New reference or NULL.
 */
json_t *diag_diagnosis_json(const struct diag_diagnosis *d);

/* The diagnosis as text: a numbered list, each cause with whose step fails,
 * what it explains and its hint. o->color as for diag_render_text. */
char *diag_diagnosis_text(const struct diag_diagnosis *d, const struct diag_render_opts *o);

/* "the CA's validation fails", ...: a sentence for an actor. */
const char *diag_actor_text(enum diag_actor a);
/* A few words, for a finding's "who fails:" line. */
const char *diag_actor_short(enum diag_actor a);

#endif
