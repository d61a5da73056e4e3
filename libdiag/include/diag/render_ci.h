/* SPDX-License-Identifier: ISC */
/*
 * render_ci.h - renderings for CI systems: JUnit XML (GitLab, Jenkins),
 * GitHub Actions workflow commands and step summary, TAP. Each renders
 * the findings that pass the options' filter (one name of a batch at a
 * time); all return malloc'd text or NULL when out of memory.
 */
#ifndef DIAG_RENDER_CI_H
#define DIAG_RENDER_CI_H

#include <stddef.h>

#include "diag/diagnosis.h"
#include "diag/finding.h"
#include "diag/render.h"

/*
 * One <testsuite name=NAME> with a <testcase> per finding: classname NAME,
 * name "id target", time in seconds; <failure> for fail, <error> for
 * error, <skipped> for skip (the hint as the message), the status, summary,
 * hint, detail and evidence in <system-out>. A whole document is
 * diag_junit_head(), suites, diag_junit_tail().
 */
char *diag_render_junit_suite(const struct diag_report *r, const char *name,
                              const struct diag_render_opts *o);
const char *diag_junit_head(void);
const char *diag_junit_tail(void);

/*
 * GitHub Actions workflow commands: "::error title=...::message" for error
 * and fail, "::warning ...::" for warn; the causes of d first, then the
 * other findings, failures before warnings (the runner shows ten of each
 * per step). Escaped as the runner requires: %, CR and LF in the message;
 * also ':' and ',' in the title.
 */
char *diag_render_github(const struct diag_report *r, const struct diag_diagnosis *d,
                         const struct diag_render_opts *o);
/* A Markdown summary (for $GITHUB_STEP_SUMMARY): a heading with verdict
 * (the report's when DIAG_SKIP), the causes of d with their fix, the counts
 * of r's findings. */
char *diag_render_markdown(const struct diag_report *r, const struct diag_diagnosis *d,
                           enum diag_status verdict);

/*
 * TAP test lines, numbered from *number + 1 (updated): "not ok" for
 * findings at or above fail_from (skip never), a YAML block with severity,
 * id, target, domain and hint for findings that are not ok. Nothing here
 * needs TAP 14, so the caller writes "TAP version 13" first (TAP 14
 * harnesses read it; Debian 12's prove refuses a version 14 line) and the
 * plan "1..N" (at the end is fine).
 */
char *diag_render_tap(const struct diag_report *r, const struct diag_render_opts *o,
                      enum diag_status fail_from, size_t *number);

#endif
