/* SPDX-License-Identifier: ISC */
/*
 * render_metrics.h - the OpenMetrics text format (what Prometheus and
 * node_exporter's textfile collector read): families of gauges with
 * bounded labels (a name, a check id, a limit; never free text), each
 * family's samples together, "# EOF" last.
 */
#ifndef DIAG_RENDER_METRICS_H
#define DIAG_RENDER_METRICS_H

#include "diag/finding.h"

struct diag_metrics;

/* NULL when out of memory. */
struct diag_metrics *diag_metrics_new(void);
void diag_metrics_free(struct diag_metrics *m);

/*
 * Declare a family before its samples: name ([a-z_:][a-z0-9_:]*, ending in
 * "_" unit when unit is set), type "gauge" (the only one used: every value
 * is a state at the time of the run), unit ("seconds") or NULL, one line
 * of help. Families are written in the order declared; declaring a name
 * again is a no-op. 0, or -1 (bad name, out of memory).
 */
int diag_metrics_family(struct diag_metrics *m, const char *name, const char *type,
                        const char *unit, const char *help);

/*
 * A sample of family name: labels is NULL or {key, value, key, value, ...,
 * NULL}; values are escaped as the format requires (\\ \" \n). The caller
 * keeps label sets unique within a family. 0, or -1 (unknown family, out
 * of memory).
 */
int diag_metrics_sample(struct diag_metrics *m, const char *name, const char *const *labels,
                        double value);

/* Status as a number: ok 0, warn 1, fail 2, error 3, skip -1. */
int diag_metrics_status_value(enum diag_status st);

/*
 * The series every tool exports for a report r of tool (label "tool"):
 *   acme_diag_verdict{tool,name}            the worst status, per name and
 *                                           overall (name="")
 *   acme_diag_check_status{tool,name,check} the worst status of each check
 *                                           id per name (-1: skipped)
 *   acme_diag_run_duration_seconds{tool}, acme_diag_run_timestamp_seconds{tool}
 * A finding's name is its domain (acme-doctor) or, with by_target, its
 * target; findings with neither are under name="". 0, or -1.
 */
int diag_metrics_add_report(struct diag_metrics *m, const struct diag_report *r, int by_target);

/*
 * The certificate families, declared with one help text by every tool that
 * writes them (node_exporter's textfile collector refuses a metric whose
 * help differs between files), labels {name, ca}:
 *   acme_diag_certificate_expiry_timestamp_seconds
 *   acme_diag_certificate_renewal_window_start_timestamp_seconds
 * 0, or -1.
 */
int diag_metrics_cert_families(struct diag_metrics *m);

/* The OpenMetrics text ("# EOF\n" last), or NULL when out of memory. */
char *diag_metrics_text(const struct diag_metrics *m);

#endif
