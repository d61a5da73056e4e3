/* SPDX-License-Identifier: ISC */
/*
 * ratelimit_store.c - the certificates ACME clients keep: certbot's
 * archive (every version of a lineage) with its renewal configuration,
 * lego's certificates and archives, acme.sh's folder per name.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag/ratelimit.h"
#include "ratelimit_io.h"
#include "grow.h"

/* ---- files ---- */

char *rl_read_file(const char *path, size_t max, size_t *len, int *why)
{
	/* O_NONBLOCK: a FIFO put in a store must not hang the read; only a
	 * regular file is read */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	*why = 0;
	if (fd < 0 || fstat(fd, &st)) {
		*why = errno ? errno : EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		*why = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		*why = ENOMEM;
		goto out;
	}
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;  /* a file that shrank: what was there */
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

int rl_is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* The value of "key = value" (certbot's renewal conf) or KEY='value'
 * (acme.sh's), on a line of its own, into out; "" when absent. */
void rl_conf_value(const char *text, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, kl))
			continue;
		const char *v = p + kl;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '\'' || *v == '"')
			v++;
		size_t n = strcspn(v, "'\"\r\n");
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), v);
		return;
	}
}

/* ---- the stores ---- */

struct rl_tally {
	size_t certs, skipped, files;
	int truncated;
};

static int rl_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* One certificate file: its first certificate. */
static int rl_cert_file(struct ratelimit_evidence *ev, const char *path, const char *server,
                        const char *account, struct rl_tally *t)
{
	size_t len;
	int why;
	char *pem = rl_read_file(path, 1024 * 1024, &len, &why);
	t->files++;
	if (!pem) {
		t->skipped++;
		return 0;
	}
	size_t added = 0;
	if (ratelimit_add_cert_pem(ev, pem, len, server, account, path, &added) && !added)
		t->skipped++;
	t->certs += added;
	free(pem);
	return 0;
}

/* The entries of a directory, sorted, at most RL_MAX_FILES; NULL when it
 * cannot be read (or is empty). */
char **rl_list(const char *dir, size_t *n, int *truncated)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	if (!d)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n >= RL_MAX_FILES) {
			*truncated = 1;
			break;
		}
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		if (!(v[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		diag_sort(v, *n, sizeof(*v), rl_name_cmp);
	return v;
}

int rl_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void rl_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* certbot: archive/<lineage>/certN.pem; renewal/<lineage>.conf names the
 * server and the account. */
static void rl_certbot(struct ratelimit_evidence *ev, const char *dir, struct rl_tally *t)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/archive", dir);
	size_t n, m;
	char **lineages = rl_list(path, &n, &t->truncated);
	for (size_t i = 0; i < n; i++) {
		char conf_path[4096], server[1024] = "", account[256] = "";
		snprintf(conf_path, sizeof(conf_path), "%s/renewal/%s.conf", dir, lineages[i]);
		size_t len;
		int why;
		char *conf = rl_read_file(conf_path, 1024 * 1024, &len, &why);
		if (conf) {
			rl_conf_value(conf, "server", server, sizeof(server));
			rl_conf_value(conf, "account", account, sizeof(account));
			free(conf);
		}
		char ldir[4096];
		snprintf(ldir, sizeof(ldir), "%s/archive/%s", dir, lineages[i]);
		char **files = rl_list(ldir, &m, &t->truncated);
		for (size_t k = 0; k < m; k++)
			if (!strncmp(files[k], "cert", 4) && rl_has_suffix(files[k], ".pem")) {
				snprintf(path, sizeof(path), "%s/%s", ldir, files[k]);
				rl_cert_file(ev, path, server, account, t);
			}
		rl_list_free(files, m);
	}
	rl_list_free(lineages, n);
}

/* lego: certificates/<name>.crt (not .issuer.crt) with <name>.json
 * (certUrl names the server); archives/ when lego keeps old ones. */
static void rl_lego_dir(struct ratelimit_evidence *ev, const char *d, struct rl_tally *t)
{
	size_t n;
	char **files = rl_list(d, &n, &t->truncated);
	for (size_t i = 0; i < n; i++) {
		if (!rl_has_suffix(files[i], ".crt") || rl_has_suffix(files[i], ".issuer.crt"))
			continue;
		char path[4096], jpath[4096], server[1024] = "";
		snprintf(path, sizeof(path), "%s/%s", d, files[i]);
		snprintf(jpath, sizeof(jpath), "%s/%.*s.json", d, (int)(strlen(files[i]) - 4), files[i]);
		size_t len;
		int why;
		char *js = rl_read_file(jpath, 1024 * 1024, &len, &why);
		json_t *j = js ? json_loadb(js, len, 0, NULL) : NULL;
		const char *url = json_string_value(json_object_get(j, "certUrl"));
		if (url)
			snprintf(server, sizeof(server), "%s", url);
		json_decref(j);
		free(js);
		rl_cert_file(ev, path, server, "", t);
	}
	rl_list_free(files, n);
}

/* acme.sh: <name>[_ecc]/<name>.cer with <name>.conf (Le_API: the server). */
static void rl_acmesh(struct ratelimit_evidence *ev, const char *dir, struct rl_tally *t)
{
	size_t n;
	char **names = rl_list(dir, &n, &t->truncated);
	for (size_t i = 0; i < n; i++) {
		char d[4096];
		snprintf(d, sizeof(d), "%s/%s", dir, names[i]);
		if (!strcmp(names[i], "ca") || !rl_is_dir(d))
			continue;
		size_t base = strlen(names[i]);
		if (rl_has_suffix(names[i], "_ecc"))
			base -= 4;
		char cer[4096], conf_path[4096], server[1024] = "";
		snprintf(cer, sizeof(cer), "%s/%.*s.cer", d, (int)base, names[i]);
		snprintf(conf_path, sizeof(conf_path), "%s/%.*s.conf", d, (int)base, names[i]);
		size_t len;
		int why;
		char *conf = rl_read_file(conf_path, 1024 * 1024, &len, &why);
		if (conf) {
			rl_conf_value(conf, "Le_API", server, sizeof(server));
			free(conf);
		}
		struct stat st;
		if (!stat(cer, &st))
			rl_cert_file(ev, cer, server, "", t);
	}
	rl_list_free(names, n);
}

int ratelimit_read_store(struct ratelimit_evidence *ev, enum acme_store s, const char *dir,
                         struct diag_report *r, char *err, size_t errlen)
{
	static const char *const client[] = {"certbot", "lego", "acme.sh"};
	char def[1024];
	if (!dir) {
		const char *home = getenv("HOME");
		snprintf(def, sizeof(def), "%s", s == STORE_CERTBOT ? "/etc/letsencrypt" : s == STORE_LEGO
		         ? ".lego" : "");
		if (s == STORE_ACMESH)
			snprintf(def, sizeof(def), "%s/.acme.sh", home && *home ? home : "/root");
		dir = def;
	}
	if (!rl_is_dir(dir)) {
		snprintf(err, errlen, "%s: not a directory (%s's store)", dir, client[s]);
		return -1;
	}
	struct rl_tally t = {0};
	char sub[4096];
	switch (s) {
	case STORE_CERTBOT:
		rl_certbot(ev, dir, &t);
		break;
	case STORE_LEGO:
		snprintf(sub, sizeof(sub), "%s/certificates", dir);
		rl_lego_dir(ev, sub, &t);
		snprintf(sub, sizeof(sub), "%s/archives", dir);
		rl_lego_dir(ev, sub, &t);
		break;
	case STORE_ACMESH:
		rl_acmesh(ev, dir, &t);
		break;
	}
	ev->clients |= 1 << s;
	struct diag_finding *f;
	if (!t.certs)
		f = diag_add(r, DIAG_WARN, "ratelimit.source", dir, "no certificate in %s's store %s%s", client[s],
		             dir, t.skipped ? " (files there are not certificates)" : "");
	else
		f = diag_add(r, t.skipped || t.truncated ? DIAG_WARN : DIAG_OK, "ratelimit.source", dir,
		             "read %zu certificates from %s's store%s%s", t.certs, client[s],
		             t.skipped ? ", passed over files that are not certificates" : "",
		             t.truncated ? ", stopped at 10000 entries of a folder" : "");
	if (f && !t.certs)
		diag_set_hint(f, "Give the folder the client writes to (certbot: --config-dir, default "
		              "/etc/letsencrypt; lego: --path, default ./.lego; acme.sh: --home, default "
		              "~/.acme.sh).");
	diag_evidence(f, "client", json_string(client[s]));
	diag_evidence(f, "certificates", json_integer((json_int_t)t.certs));
	diag_evidence(f, "passed_over", json_integer((json_int_t)t.skipped));
	return 0;
}
