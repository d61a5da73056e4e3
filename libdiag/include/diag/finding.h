/* SPDX-License-Identifier: ISC */
/*
 * finding.h - the findings model shared by every probe and every tool.
 *
 * A probe never prints: it appends findings to a report. A tool renders the
 * report (text or JSON, see render.h) and maps the verdict to an exit status.
 */
#ifndef DIAG_FINDING_H
#define DIAG_FINDING_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Ordered by severity for the verdict, except DIAG_SKIP, which never
 * contributes to it.
 */
enum diag_status {
	DIAG_SKIP = 0,  /* not applicable / not requested */
	DIAG_OK,        /* checked and fine */
	DIAG_WARN,      /* works today but fragile or slow */
	DIAG_FAIL,      /* issuance will fail for this reason */
	DIAG_ERROR,     /* could not check (our side) */
};

/* Whose step fails because of a finding (or a cause). */
enum diag_actor {
	DIAG_ACTOR_UNKNOWN = 0,
	DIAG_ACTOR_CA,      /* the CA's validation (or its API) refuses */
	DIAG_ACTOR_CLIENT,  /* the ACME client's own pre-check or set-up fails; the CA is not asked */
	DIAG_ACTOR_BOTH,
};

struct diag_finding {
	char *id;        /* stable dotted name, e.g. "dns.zone.soa" */
	char *domain;    /* the name the probe was about (acme-doctor), NULL if none */
	char *object;    /* what the name came from ("namespace/name" of a cert-manager
	                    object), NULL if none */
	char *target;    /* what was checked: a name, "server 192.0.2.1", ... */
	enum diag_status status;
	char *summary;   /* one line */
	char *detail;    /* optional: longer explanation, NULL if none */
	char *hint;      /* optional: the action an operator takes, NULL if none */
	json_t *evidence;/* object, never NULL; raw observations */
	int64_t duration_ms; /* -1 if not measured */
	enum diag_actor actor;  /* whose step fails, when the probe knows better than
	                           its id says (diag_finding_actor); 0: by the id */
	char *clients;   /* the ACME clients whose own check fails (actor client or
	                    both), "cert-manager, lego"; NULL: not named */
};

struct diag_report;
/* Called once per finding, when it is complete (see diag_report_flush). */
typedef void (*diag_observer_cb)(void *arg, const struct diag_report *r,
                                 const struct diag_finding *f);

/*
 * A report owns its findings. A view (diag_report_view) is a report of its
 * own for one probe, whose findings go into its parent as well, tagged with
 * the view's domain: several probes append to one report, and each can
 * still see only its own findings. The loop is single-threaded, so a
 * finding added and completed within one callback is never interleaved
 * with another probe's.
 */
struct diag_report {
	char *tool;
	char *version;
	char *target;          /* what the run was about; NULL if none */
	int64_t started_ms;    /* wall clock, ms since the epoch */
	int64_t started_mono;  /* monotonic ms, for duration */
	int64_t duration_ms;   /* set by diag_report_finish(); -1 before */
	struct diag_finding **v;
	size_t n, cap;
	/* views: findings are owned by the root report */
	struct diag_report *parent;  /* NULL for a root report */
	char *domain;                /* tag for findings added through a view */
	char *object;                /* likewise (diag_report_set_object) */
	/* observer (root reports only) */
	diag_observer_cb observer;
	void *observer_arg;
	size_t notified;             /* findings [0, notified) were passed to the observer */
};

/* Monotonic and wall clocks in milliseconds. */
int64_t diag_now_ms(void);
int64_t diag_wall_ms(void);

struct diag_report *diag_report_new(const char *tool, const char *version,
                                    const char *target);
void diag_report_free(struct diag_report *r);
/* Sets the duration and flushes the observer. */
void diag_report_finish(struct diag_report *r);

/*
 * A view of parent for one probe about domain (may be NULL): findings added
 * to the view are appended to the view and to its root, with domain set.
 * Free the view (diag_report_free) before its parent; the findings stay in
 * the root.
 */
struct diag_report *diag_report_view(struct diag_report *parent, const char *domain);

/* Tag the findings added through view v from now on with object too. */
int diag_report_set_object(struct diag_report *v, const char *object);

/*
 * Observe a root report: cb runs for every finding added from now on, once
 * it is complete. A finding is complete when the callback that added it
 * returns, so the observer is called from diag_report_flush(): the loop's
 * turn hook (diag_loop_on_turn) or diag_report_finish(). Findings already
 * in the report are passed at the next flush too.
 */
void diag_report_observe(struct diag_report *r, diag_observer_cb cb, void *arg);
void diag_report_flush(struct diag_report *r);

/*
 * Append a finding; summary is printf-formatted. Returns the finding so the
 * caller can set detail, hint and evidence, or NULL when out of memory (the
 * report stays valid).
 */
struct diag_finding *diag_add(struct diag_report *r, enum diag_status st,
                              const char *id, const char *target,
                              const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void diag_set_detail(struct diag_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void diag_set_hint(struct diag_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Takes ownership of val (jansson "new" reference). NULL-safe on f. */
void diag_evidence(struct diag_finding *f, const char *key, json_t *val);

/* Worst status over all findings: error > fail > warn > ok. Empty: ok. */
enum diag_status diag_verdict(const struct diag_report *r);

const char *diag_status_name(enum diag_status st);

/*
 * Exit status contract: 0 ok or warn (warn is 1 when strict), 1 fail,
 * 3 error. (2 is reserved for usage errors, decided by the tool.)
 */
int diag_exit_status(enum diag_status verdict, int strict);

#define DIAG_EXIT_OK    0
#define DIAG_EXIT_FAIL  1
#define DIAG_EXIT_USAGE 2
#define DIAG_EXIT_ERROR 3

/*
 * Text that came from the network becomes valid UTF-8: every byte that is
 * not part of a well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF) is written as the four characters
 * \xNN, and NUL bytes as \x00. Every string diag_add(), diag_set_detail()
 * and diag_set_hint() store is made so; evidence strings go through
 * diag_json_str(). Returns a malloc'd string or NULL when out of memory.
 */
char *diag_utf8_clean(const char *s, size_t len);
/* The length of the longest prefix of s (len bytes) that is at most max
 * bytes and does not end inside a UTF-8 sequence: cut text there. */
size_t diag_utf8_cut(const char *s, size_t len, size_t max);
/* A JSON string from bytes (cleaned as above); json_null() for NULL. */
json_t *diag_json_str(const char *s);
json_t *diag_json_strn(const char *s, size_t len);

/* Allocating printf helpers; return NULL on failure. */
char *diag_strdup(const char *s);
char *diag_vasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
char *diag_asprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
