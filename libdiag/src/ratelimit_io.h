/* SPDX-License-Identifier: ISC */
/* ratelimit_io.h - libdiag internal: reading the evidence's files. */
#ifndef DIAG_RATELIMIT_IO_H
#define DIAG_RATELIMIT_IO_H

#include <stddef.h>

/*
 * A regular file of at most max bytes, NUL-terminated, its length in
 * *len; NULL with an errno value in *why otherwise (EINVAL: not a regular
 * file, EFBIG: larger than max). Never blocks on a FIFO or a device.
 */
char *rl_read_file(const char *path, size_t max, size_t *len, int *why);
int rl_is_dir(const char *path);
/* "key = value" or KEY='value' on a line of its own; "" when absent. */
void rl_conf_value(const char *text, const char *key, char *out, size_t len);
/* The entries of a directory (no dot files), sorted, at most RL_MAX_FILES
 * (*truncated set past that); NULL when unreadable or empty. */
char **rl_list(const char *dir, size_t *n, int *truncated);
void rl_list_free(char **v, size_t n);
/* For qsort over an array of char *. */
int rl_name_cmp(const void *a, const void *b);

#endif
