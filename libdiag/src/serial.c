/* SPDX-License-Identifier: ISC */
/*
 * serial.c - serial numbers as integers, a hash set of them, and the
 * one-pass scan of published lists (millions of lines, any length).
 *
 * The certificates to check are few next to an incident list, so they go
 * into the hash set and the list streams past it once: memory is the set's,
 * time one read of the file (the pattern of jetstack's CAA checker, without
 * its 64 KiB line limit).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/cert.h"

#define X16 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
/* hex digit values; -1 for anything else */
static const signed char hexval[256] = {
	X16, X16, X16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, X16,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, X16,
	X16, X16, X16, X16, X16, X16, X16, X16,
};

int diag_serial_parse(const char *s, size_t len, struct diag_serial *out)
{
	memset(out, 0, sizeof(*out));
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	/* right to left, nibble by nibble; a colon or space only between digits.
	 * Millions of lines go through here: a table, few branches. */
	size_t nib = 0, digits = 0;
	for (size_t i = len; i-- > 0;) {
		int v = hexval[(unsigned char)s[i]];
		if (v < 0) {
			if ((s[i] == ':' || s[i] == ' ') && i > 0 && i + 1 < len)
				continue;
			return -1;
		}
		digits++;
		if (nib >= 2 * SERIAL_BYTES) {
			if (v)
				return -1;  /* too many significant bytes */
			continue;
		}
		out->b[SERIAL_BYTES - 1 - nib / 2] |= (unsigned char)(nib & 1 ? v << 4 : v);
		nib++;
	}
	return digits ? 0 : -1;
}

int diag_serial_from_der(const unsigned char *p, size_t len, struct diag_serial *out)
{
	memset(out, 0, sizeof(*out));
	if (!len)
		return -1;
	unsigned char tmp[256];
	int neg = p[0] & 0x80;
	if (len > sizeof(tmp))
		return -1;
	memcpy(tmp, p, len);
	if (neg) {  /* magnitude of a two's complement number: invert, add one */
		for (size_t i = 0; i < len; i++)
			tmp[i] = (unsigned char)~tmp[i];
		for (size_t i = len; i-- > 0;)
			if (++tmp[i])
				break;
	}
	size_t skip = 0;
	while (skip < len && !tmp[skip])
		skip++;
	if (len - skip > SERIAL_BYTES)
		return -1;
	memcpy(out->b + SERIAL_BYTES - (len - skip), tmp + skip, len - skip);
	out->neg = neg ? 1 : 0;
	return 0;
}

int diag_serial_from_asn1(const ASN1_INTEGER *a, struct diag_serial *out)
{
	memset(out, 0, sizeof(*out));
	if (!a)
		return -1;
	const unsigned char *d = ASN1_STRING_get0_data(a);
	int len = ASN1_STRING_length(a);
	int skip = 0;
	while (skip < len && !d[skip])
		skip++;
	if (len - skip > SERIAL_BYTES)
		return -1;
	memcpy(out->b + SERIAL_BYTES - (len - skip), d + skip, (size_t)(len - skip));
	out->neg = ASN1_STRING_type(a) == V_ASN1_NEG_INTEGER;
	return 0;
}

void diag_serial_hex(const struct diag_serial *s, char *out, size_t len)
{
	size_t i = 0, k = 0;
	while (i + 1 < SERIAL_BYTES && !s->b[i])
		i++;
	if (s->neg && k + 1 < len)
		out[k++] = '-';
	for (; i < SERIAL_BYTES && k + 3 <= len; i++)
		k += (size_t)snprintf(out + k, len - k, "%02X", s->b[i]);
	out[k < len ? k : len - 1] = '\0';
}

/* ---- the set: open addressing over entries, duplicates chained ---- */

struct set_entry {
	struct diag_serial k;
	size_t idx;
	uint32_t next;   /* 1 + the next entry with the same serial, 0: none */
};

struct diag_serial_set {
	struct set_entry *e;
	size_t n, cap;
	uint64_t *slot;  /* 0: empty; else the hash's high half, then 1 + entry index:
	                    a lookup that misses (most lines of a list) reads no entry */
	size_t nslots;   /* a power of two, at least twice the distinct serials */
	size_t distinct;
};

static uint64_t serial_hash(const struct diag_serial *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ k->neg;
	for (size_t i = 0; i < SERIAL_BYTES; i += 8) {
		uint64_t w;
		memcpy(&w, k->b + i, 8);
		h ^= w;
		h ^= h >> 31;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	return h;
}

struct diag_serial_set *diag_serial_set_new(size_t expect)
{
	struct diag_serial_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nslots = 64;
	while (s->nslots < expect * 2)
		s->nslots *= 2;
	s->slot = calloc(s->nslots, sizeof(*s->slot));
	if (!s->slot) {
		free(s);
		return NULL;
	}
	return s;
}

void diag_serial_set_free(struct diag_serial_set *s)
{
	if (!s)
		return;
	free(s->e);
	free(s->slot);
	free(s);
}

size_t diag_serial_set_count(const struct diag_serial_set *s)
{
	return s->n;
}

static uint32_t slot_entry(uint64_t v)
{
	return (uint32_t)v;
}

/* The slot of k (whose hash is h): its entry, or the empty slot where it goes. */
static size_t find_slot(const struct diag_serial_set *s, const struct diag_serial *k, uint64_t h)
{
	size_t mask = s->nslots - 1, i = (size_t)h & mask;
	uint64_t tag = h & 0xffffffff00000000ull;
	while (s->slot[i] && ((s->slot[i] & 0xffffffff00000000ull) != tag ||
	                      memcmp(&s->e[slot_entry(s->slot[i]) - 1].k, k, sizeof(*k))))
		i = (i + 1) & mask;
	return i;
}

static int rehash(struct diag_serial_set *s)
{
	size_t old = s->nslots;
	uint64_t *os = s->slot;
	s->nslots *= 2;
	s->slot = calloc(s->nslots, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = os;
		s->nslots = old;
		return -1;
	}
	for (size_t i = 0; i < old; i++)
		if (os[i]) {
			const struct diag_serial *k = &s->e[slot_entry(os[i]) - 1].k;
			s->slot[find_slot(s, k, serial_hash(k))] = os[i];
		}
	free(os);
	return 0;
}

int diag_serial_set_add(struct diag_serial_set *s, const struct diag_serial *k, size_t idx)
{
	if (s->n >= UINT32_MAX - 1)
		return -1;
	if ((s->distinct + 1) * 2 > s->nslots && rehash(s))
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *v = realloc(s->e, cap * sizeof(*s->e));
		if (!v)
			return -1;
		s->e = v;
		s->cap = cap;
	}
	struct set_entry *e = &s->e[s->n];
	e->k = *k;
	e->idx = idx;
	e->next = 0;
	uint64_t h = serial_hash(k);
	size_t i = find_slot(s, k, h);
	if (s->slot[i]) {  /* the serial again: chain it behind the first */
		struct set_entry *f = &s->e[slot_entry(s->slot[i]) - 1];
		e->next = f->next;
		f->next = (uint32_t)(s->n + 1);
	} else {
		s->slot[i] = (h & 0xffffffff00000000ull) | (uint32_t)(s->n + 1);
		s->distinct++;
	}
	s->n++;
	return 0;
}

int diag_serial_set_next(const struct diag_serial_set *s, const struct diag_serial *k,
                         size_t *it, size_t *idx)
{
	uint32_t cur;
	if (*it == 0) {
		cur = slot_entry(s->slot[find_slot(s, k, serial_hash(k))]);
	} else if (*it == SIZE_MAX) {
		return 0;
	} else {
		cur = s->e[*it - 1].next;
	}
	if (!cur) {
		*it = SIZE_MAX;
		return 0;
	}
	*idx = s->e[cur - 1].idx;
	*it = cur;
	return 1;
}

/* ---- list scanning ---- */

struct scanner {
	char keep[SERIAL_LINE_KEEP];
	size_t kept;
	int cut;          /* the current line was longer than keep */
	uint64_t lineno;
	diag_list_serial_cb cb;
	void *arg;
	struct diag_list_stats *st;
};

/* One line (without its newline): its serial, if any, to cb. 1 when cb said stop. */
static int scan_line(struct scanner *sc, const char *l, size_t len)
{
	struct diag_list_stats *st = sc->st;
	size_t i = 0;
	while (i < len && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
		i++;
	if (i == len || l[i] == '#')
		return 0;
	if (len - i > 7 && !memcmp(l + i, "serial", 6) && (l[i + 6] == ' ' || l[i + 6] == '\t')) {
		i += 7;
		while (i < len && (l[i] == ' ' || l[i] == '\t'))
			i++;
	}
	size_t j = i;
	while (j < len && l[j] != ' ' && l[j] != '\t' && l[j] != ',' && l[j] != ';' && l[j] != '\r')
		j++;
	struct diag_serial k;
	if (j == i || diag_serial_parse(l + i, j - i, &k)) {
		if (!st->malformed++)
			st->first_malformed = sc->lineno;
		return 0;
	}
	st->serials++;
	return sc->cb(sc->arg, &k, sc->lineno, l, len) != 0;
}

static int line_end(struct scanner *sc, const char *l, size_t len)
{
	sc->lineno++;
	sc->st->lines++;
	sc->st->long_lines += sc->cut;
	return scan_line(sc, l, len);
}

/* Feed a chunk; 1 when cb said stop. */
static int scan_chunk(struct scanner *sc, const char *p, size_t n)
{
	sc->st->bytes += n;
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;
		if (!sc->kept && !sc->cut && nl && seg <= SERIAL_LINE_KEEP) {
			/* the common case: a whole line in the chunk, no copy */
			if (line_end(sc, p, seg))
				return 1;
		} else {
			size_t room = SERIAL_LINE_KEEP - sc->kept, take = seg < room ? seg : room;
			memcpy(sc->keep + sc->kept, p, take);
			sc->kept += take;
			if (take < seg)
				sc->cut = 1;
			if (nl) {
				int stop = line_end(sc, sc->keep, sc->kept);
				sc->kept = 0;
				sc->cut = 0;
				if (stop)
					return 1;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
		n -= seg + 1;
	}
	return 0;
}

static struct scanner *scanner_new(diag_list_serial_cb cb, void *arg, struct diag_list_stats *st)
{
	struct scanner *sc = calloc(1, sizeof(*sc));
	memset(st, 0, sizeof(*st));
	if (sc) {
		sc->cb = cb;
		sc->arg = arg;
		sc->st = st;
	}
	return sc;
}

int diag_serial_list_each_buf(const char *buf, size_t len, diag_list_serial_cb cb, void *arg,
                              struct diag_list_stats *st)
{
	struct scanner *sc = scanner_new(cb, arg, st);
	if (!sc)
		return -1;
	if (!scan_chunk(sc, buf, len) && (sc->kept || sc->cut))
		line_end(sc, sc->keep, sc->kept);  /* a last line without newline */
	free(sc);
	return 0;
}

int diag_serial_list_each(int fd, diag_list_serial_cb cb, void *arg, struct diag_list_stats *st,
                          char *err, size_t errlen)
{
	enum { CHUNK = 1 << 20 };
	struct scanner *sc = scanner_new(cb, arg, st);
	char *buf = malloc(CHUNK);
	int ret = -1;
	if (!sc || !buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf, CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (scan_chunk(sc, buf, (size_t)got)) {
			ret = 0;
			goto out;
		}
	}
	if (sc->kept || sc->cut)
		line_end(sc, sc->keep, sc->kept);
	ret = 0;
out:
	free(buf);
	free(sc);
	return ret;
}

struct match {
	const struct diag_serial_set *set;
	diag_list_match_cb cb;
	void *arg;
};

static int match_one(void *arg, const struct diag_serial *k, uint64_t lineno, const char *line, size_t len)
{
	struct match *m = arg;
	size_t it = 0, idx;
	while (diag_serial_set_next(m->set, k, &it, &idx))
		if (m->cb && m->cb(m->arg, idx, lineno, line, len))
			return 1;
	return 0;
}

int diag_serial_list_scan_buf(const char *buf, size_t len, const struct diag_serial_set *set,
                              diag_list_match_cb cb, void *arg, struct diag_list_stats *st)
{
	struct match m = { set, cb, arg };
	return diag_serial_list_each_buf(buf, len, match_one, &m, st);
}

int diag_serial_list_scan(int fd, const struct diag_serial_set *set, diag_list_match_cb cb,
                          void *arg, struct diag_list_stats *st, char *err, size_t errlen)
{
	struct match m = { set, cb, arg };
	return diag_serial_list_each(fd, match_one, &m, st, err, errlen);
}
