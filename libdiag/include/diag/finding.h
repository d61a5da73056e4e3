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

struct diag_finding {
	char *id;        /* stable dotted name, e.g. "dns.zone.soa" */
	char *target;    /* what was checked: a name, "server 192.0.2.1", ... */
	enum diag_status status;
	char *summary;   /* one line */
	char *detail;    /* optional: longer explanation, NULL if none */
	char *hint;      /* optional: the action an operator takes, NULL if none */
	json_t *evidence;/* object, never NULL; raw observations */
	int64_t duration_ms; /* -1 if not measured */
};

struct diag_report {
	char *tool;
	char *version;
	char *target;          /* what the run was about; NULL if none */
	int64_t started_ms;    /* wall clock, ms since the epoch */
	int64_t started_mono;  /* monotonic ms, for duration */
	int64_t duration_ms;   /* set by diag_report_finish(); -1 before */
	struct diag_finding **v;
	size_t n, cap;
};

/* Monotonic and wall clocks in milliseconds. */
int64_t diag_now_ms(void);
int64_t diag_wall_ms(void);

struct diag_report *diag_report_new(const char *tool, const char *version,
                                    const char *target);
void diag_report_free(struct diag_report *r);
void diag_report_finish(struct diag_report *r);

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

/* Allocating printf helpers; return NULL on failure. */
char *diag_strdup(const char *s);
char *diag_vasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
char *diag_asprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
