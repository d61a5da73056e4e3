/* SPDX-License-Identifier: ISC */
/* Unit tests: TLS-ALPN-01 certificate checks in Boulder's and Pebble's
 * order and words, on certificates made here with OpenSSL (one defect
 * each), and hostile bytes; the probe on a loop against servers on
 * 127.0.0.1 (a TLS server run between the loop's turns, plain HTTP, a
 * server that closes at once, one that never accepts), cancelled at
 * every turn. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "diag.h"
#include "loopback.h"
#include "fakedns.h"

#define NAME "alpn.test"
#define KA "tok.thumbprint"

/* ---- certificates with one defect each ---- */

struct spec {
	const char *cn;             /* NULL: none */
	const char *dns[3];         /* dNSNames of the subjectAltName */
	const char *ip;             /* an iPAddress too */
	const char *email;          /* an rfc822Name too */
	int no_san, dup_san;
	int no_acme, dup_acme;      /* no acmeIdentifier; two of them */
	int not_critical;
	const unsigned char *value; /* the extension's DER; NULL: 04 20 SHA-256(KA) */
	size_t value_len;
	int ca_signed;              /* issued by another name and key */
	int other_key;              /* same names, signed by another key */
};

static EVP_PKEY *key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, const char *oid, int critical, const unsigned char *der, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_true(obj && os && ASN1_OCTET_STRING_set(os, der, (int)len));
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static void add_name(GENERAL_NAMES *g, int type, const char *s)
{
	GENERAL_NAME *n = GENERAL_NAME_new();
	assert_non_null(n);
	if (type == GEN_IPADD) {
		unsigned char a[4];
		assert_int_equal(inet_pton(AF_INET, s, a), 1);
		ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(o, a, 4);
		GENERAL_NAME_set0_value(n, GEN_IPADD, o);
	} else {
		ASN1_IA5STRING *i = ASN1_IA5STRING_new();
		ASN1_STRING_set(i, s, (int)strlen(s));
		GENERAL_NAME_set0_value(n, type, i);
	}
	sk_GENERAL_NAME_push(g, n);
}

/* A certificate made to spec, as DER (free it). *pk gets its key (when pk). */
static unsigned char *make_cert(const struct spec *s, size_t *len, EVP_PKEY **pk)
{
	EVP_PKEY *k = key(), *signer = s->ca_signed || s->other_key ? key() : k;
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_NAME_new();
	if (s->cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	if (s->ca_signed) {
		X509_NAME *i = X509_NAME_new();
		X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA", -1, -1, 0);
		X509_set_issuer_name(x, i);
		X509_NAME_free(i);
	} else {
		X509_set_issuer_name(x, n);
	}
	X509_NAME_free(n);
	X509_set_pubkey(x, k);
	if (!s->no_san) {
		GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
		for (size_t i = 0; i < 3 && s->dns[i]; i++)
			add_name(g, GEN_DNS, s->dns[i]);
		if (s->ip)
			add_name(g, GEN_IPADD, s->ip);
		if (s->email)
			add_name(g, GEN_EMAIL, s->email);
		unsigned char *der = NULL;
		int dl = i2d_GENERAL_NAMES(g, &der);
		assert_true(dl > 0);
		for (int i = 0; i < 1 + s->dup_san; i++)
			add_ext(x, "2.5.29.17", 0, der, (size_t)dl);
		OPENSSL_free(der);
		GENERAL_NAMES_free(g);
	}
	unsigned char v[34] = {0x04, 0x20};
	assert_int_equal(diag_tlsalpn_digest(KA, v + 2), 0);
	for (int i = 0; i < (s->no_acme ? 0 : 1 + s->dup_acme); i++)
		add_ext(x, TLSALPN_OID, !s->not_critical, s->value ? s->value : v,
		        s->value ? s->value_len : sizeof(v));
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	unsigned char *out = NULL;
	int l = i2d_X509(x, &out);
	assert_true(l > 0);
	*len = (size_t)l;
	X509_free(x);
	if (signer != k)
		EVP_PKEY_free(signer);
	if (pk)
		*pk = k;
	else
		EVP_PKEY_free(k);
	return out;
}

/* Judge a certificate made to spec; the check that fails (and its words). */
static enum tlsalpn_cert_check judge_spec(const struct spec *s, enum http01_profile p,
                                          const char *ka, char *why, size_t whylen)
{
	size_t len;
	unsigned char *der = make_cert(s, &len, NULL), expected[32];
	if (ka)
		assert_int_equal(diag_tlsalpn_digest(ka, expected), 0);
	struct tlsalpn_cert_query q = { .domain = NAME, .expected = ka ? expected : NULL,
	                                .profile = p, .from = "192.0.2.1:443", .ncerts = 1 };
	struct tlsalpn_cert c;
	assert_int_equal(diag_tlsalpn_cert_check(der, len, &q, &c), 0);
	snprintf(why, whylen, "%s", c.why ? c.why : "");
	enum tlsalpn_cert_check r = c.check;
	if (r == TLSALPN_CERT_OK)
		assert_null(c.why);
	assert_int_equal(strlen(c.sha256), 64);
	diag_tlsalpn_cert_free(&c);
	OPENSSL_free(der);
	return r;
}

#define GOOD .cn = NAME, .dns = {NAME}
#define BOULDER "Incorrect validation certificate for tls-alpn-01 challenge. Requested " NAME \
                " from 192.0.2.1:443. "

static void boulder_checks(void **state)
{
	(void)state;
	char why[512];
	struct { struct spec s; const char *ka; enum tlsalpn_cert_check want; const char *words; } cases[] = {
		{ {GOOD}, KA, TLSALPN_CERT_OK, "" },
		{ {GOOD}, NULL, TLSALPN_CERT_OK, "" },   /* pre-flight: the value is not compared */
		{ {GOOD}, "tok.other", TLSALPN_CERT_VALUE, NULL },
		{ {GOOD, .ca_signed = 1}, KA, TLSALPN_CERT_NOT_SELF_SIGNED,
		  BOULDER "Received certificate which is not self-signed." },
		{ {GOOD, .other_key = 1}, KA, TLSALPN_CERT_NOT_SELF_SIGNED,
		  BOULDER "Received certificate which is not self-signed." },
		{ {GOOD, .dup_acme = 1}, KA, TLSALPN_CERT_EXTENSIONS,
		  BOULDER "Received certificate with unexpected extensions: \"Extension OID "
		  "1.3.6.1.5.5.7.1.31 seen twice\"" },
		{ {GOOD, .dup_san = 1}, KA, TLSALPN_CERT_EXTENSIONS,
		  BOULDER "Received certificate with unexpected extensions: \"Extension OID 2.5.29.17 "
		  "seen twice\"" },
		{ {.cn = NAME, .no_san = 1}, KA, TLSALPN_CERT_EXTENSIONS,
		  BOULDER "Received certificate with unexpected extensions: \"Required extension OID "
		  "2.5.29.17 is not present\"" },
		{ {.cn = NAME, .no_san = 1, .no_acme = 1}, KA, TLSALPN_CERT_EXTENSIONS,  /* acmeIdentifier is asked for first */
		  BOULDER "Received certificate with unexpected extensions: \"Required extension OID "
		  "1.3.6.1.5.5.7.1.31 is not present\"" },
		{ {.cn = NAME, .dns = {NAME, "www." NAME}}, KA, TLSALPN_CERT_IDENTIFIERS,
		  BOULDER "Received certificate with unexpected identifiers (\"" NAME ", www." NAME
		  "\"): \"wrong number of identifiers\"" },
		{ {.cn = NAME, .dns = {NAME}, .ip = "192.0.2.1"}, KA, TLSALPN_CERT_IDENTIFIERS,
		  BOULDER "Received certificate with unexpected identifiers (\"192.0.2.1, " NAME
		  "\"): \"wrong number of identifiers\"" },
		{ {.cn = "Other", .dns = {"other.test"}}, KA, TLSALPN_CERT_IDENTIFIERS,
		  BOULDER "Received certificate with unexpected identifiers (\"other, other.test\"): "
		  "\"identifier does not match expected identifier\"" },
		/* the name matches without case, the DER does not */
		{ {.dns = {"ALPN.test"}}, KA, TLSALPN_CERT_IDENTIFIERS,
		  BOULDER "Received certificate with unexpected identifiers (\"" NAME "\"): \"SAN "
		  "extension does not match expected bytes\"" },
		{ {.dns = {NAME}, .email = "a@" NAME}, KA, TLSALPN_CERT_IDENTIFIERS,
		  BOULDER "Received certificate with unexpected identifiers (\"a@" NAME ", " NAME "\"): "
		  "\"SAN extension does not match expected bytes\"" },
		{ {GOOD, .not_critical = 1}, KA, TLSALPN_CERT_NOT_CRITICAL,
		  BOULDER "Received certificate with acmeValidationV1 extension that is not Critical." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tlsalpn_cert_check got = judge_spec(&cases[i].s, HTTP01_LETSENCRYPT, cases[i].ka, why,
		                                         sizeof(why));
		assert_int_equal(got, cases[i].want);
		if (cases[i].words)
			assert_string_equal(why, cases[i].words);
	}
	/* the value: both digests, in hex */
	unsigned char a[32], b[32];
	diag_tlsalpn_digest(KA, a);
	diag_tlsalpn_digest("tok.other", b);
	char want[400], ha[65], hb[65];
	for (int i = 0; i < 32; i++) {
		snprintf(ha + 2 * i, 3, "%02x", a[i]);
		snprintf(hb + 2 * i, 3, "%02x", b[i]);
	}
	snprintf(want, sizeof(want), BOULDER "Received certificate with acmeValidationV1 extension "
	         "value %s but expected %s.", ha, hb);
	judge_spec(&(struct spec){GOOD}, HTTP01_RFC8555, "tok.other", why, sizeof(why));
	assert_string_equal(why, want);
}

/* The value must be a DER OCTET STRING of 32 bytes and nothing else. */
static void malformed_values(void **state)
{
	(void)state;
	unsigned char v[40] = {0x04, 0x20};
	diag_tlsalpn_digest(KA, v + 2);
	unsigned char longform[35] = {0x04, 0x81, 0x20};
	memcpy(longform + 3, v + 2, 32);
	unsigned char bitstring[34];
	memcpy(bitstring, v, 34);
	bitstring[0] = 0x03;
	unsigned char indefinite[36] = {0x04, 0x80};
	memcpy(indefinite + 2, v + 2, 32);
	unsigned char short31[33] = {0x04, 0x1f};
	memcpy(short31 + 2, v + 2, 31);
	struct { const unsigned char *d; size_t n; enum tlsalpn_cert_check boulder, pebble; } cases[] = {
		{ v, 35, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_OK },         /* a trailing byte */
		{ longform, 35, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_MALFORMED },  /* non-minimal length */
		{ bitstring, 34, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_MALFORMED },
		{ indefinite, 36, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_MALFORMED },
		{ short31, 33, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_VALUE },
		{ v, 1, TLSALPN_CERT_MALFORMED, TLSALPN_CERT_MALFORMED },
		{ v, 34, TLSALPN_CERT_OK, TLSALPN_CERT_OK },
	};
	char why[512];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s = {GOOD, .value = cases[i].d, .value_len = cases[i].n};
		assert_int_equal(judge_spec(&s, HTTP01_LETSENCRYPT, KA, why, sizeof(why)), cases[i].boulder);
		assert_int_equal(judge_spec(&s, HTTP01_PEBBLE, KA, why, sizeof(why)), cases[i].pebble);
	}
	struct spec s = {GOOD, .value = bitstring, .value_len = 34};
	judge_spec(&s, HTTP01_PEBBLE, KA, why, sizeof(why));
	assert_string_equal(why, "Incorrect validation certificate for tls-alpn-01 challenge. "
	                         "Malformed acmeValidation extension value.");
}

static void pebble_checks(void **state)
{
	(void)state;
	char why[512];
	const char *pre = "Incorrect validation certificate for tls-alpn-01 challenge. ";
	/* Pebble checks no self-signature, no duplicate, and allows IPs */
	assert_int_equal(judge_spec(&(struct spec){GOOD, .ca_signed = 1}, HTTP01_PEBBLE, KA, why,
	                            sizeof(why)), TLSALPN_CERT_OK);
	assert_int_equal(judge_spec(&(struct spec){GOOD, .dup_san = 1}, HTTP01_PEBBLE, KA, why,
	                            sizeof(why)), TLSALPN_CERT_OK);
	assert_int_equal(judge_spec(&(struct spec){.dns = {NAME}, .ip = "192.0.2.1"},
	                            HTTP01_PEBBLE, KA, why, sizeof(why)), TLSALPN_CERT_OK);
	char want[400];
	snprintf(want, sizeof(want), "%sMissing acmeValidationV1 extension.", pre);
	assert_int_equal(judge_spec(&(struct spec){GOOD, .not_critical = 1}, HTTP01_PEBBLE, KA, why,
	                            sizeof(why)), TLSALPN_CERT_MISSING);
	assert_string_equal(why, want);
	assert_int_equal(judge_spec(&(struct spec){.cn = NAME, .dns = {NAME}, .no_acme = 1}, HTTP01_PEBBLE, KA, why,
	                            sizeof(why)), TLSALPN_CERT_MISSING);
	snprintf(want, sizeof(want), "%sRequested {dns " NAME "} from " NAME ":443. Received 1 "
	         "certificate(s), first certificate had names \"" NAME ", " NAME ", www." NAME "\"", pre);
	assert_int_equal(judge_spec(&(struct spec){.cn = NAME, .dns = {NAME, "www." NAME}},
	                            HTTP01_PEBBLE, KA, why, sizeof(why)), TLSALPN_CERT_IDENTIFIERS);
	assert_string_equal(why, want);
	snprintf(want, sizeof(want), "%sInvalid acmeValidation extension value.", pre);
	assert_int_equal(judge_spec(&(struct spec){GOOD}, HTTP01_PEBBLE, "tok.other", why, sizeof(why)),
	                 TLSALPN_CERT_VALUE);
	assert_string_equal(why, want);
}

/* What the certificate says of itself, for the findings. */
static void description(void **state)
{
	(void)state;
	size_t len;
	unsigned char *der = make_cert(&(struct spec){.cn = "Zed.Test", .dns = {NAME, "b.test", NAME},
	                                              .ca_signed = 1}, &len, NULL);
	struct tlsalpn_cert_query q = { .domain = NAME, .profile = HTTP01_LETSENCRYPT,
	                                .from = "[2001:db8::1]:443", .ncerts = 2 };
	struct tlsalpn_cert c;
	assert_int_equal(diag_tlsalpn_cert_check(der, len, &q, &c), 0);
	assert_string_equal(c.names, NAME ", b.test, zed.test");  /* lowercased, sorted, unique */
	assert_string_equal(c.subject, "CN=Zed.Test");
	assert_string_equal(c.issuer, "CN=Test CA");
	assert_false(c.self_signed);
	assert_true(c.acme_ext && c.acme_critical && c.value_ok);
	unsigned char d[32];
	diag_tlsalpn_digest(KA, d);
	assert_memory_equal(c.value, d, 32);
	assert_non_null(strstr(c.why, "from [2001:db8::1]:443. "));
	diag_tlsalpn_cert_free(&c);
	OPENSSL_free(der);
}

/* Bytes that are not a certificate: a finding's words, never a crash. */
static void hostile_bytes(void **state)
{
	(void)state;
	size_t len;
	unsigned char *der = make_cert(&(struct spec){GOOD}, &len, NULL);
	struct tlsalpn_cert_query q = { .domain = NAME, .profile = HTTP01_LETSENCRYPT, .from = "x:443" };
	const size_t cuts[] = {0, 1, 10, len / 2, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct tlsalpn_cert c;
		assert_int_equal(diag_tlsalpn_cert_check(der, cuts[i], &q, &c), 0);
		assert_int_equal(c.check, TLSALPN_CERT_UNPARSABLE);
		assert_non_null(c.why);
		diag_tlsalpn_cert_free(&c);
	}
	/* trailing bytes after the certificate */
	unsigned char *more = malloc(len + 3);
	memcpy(more, der, len);
	memset(more + len, 0, 3);
	struct tlsalpn_cert c;
	assert_int_equal(diag_tlsalpn_cert_check(more, len + 3, &q, &c), 0);
	assert_int_equal(c.check, TLSALPN_CERT_UNPARSABLE);
	diag_tlsalpn_cert_free(&c);
	free(more);
	OPENSSL_free(der);
}

/* ---- the probe on a loop ---- */

enum srv_mode { SRV_TLS, SRV_HTTP, SRV_CLOSE };

/* A server on 127.0.0.1, run between the loop's turns (turn_hook). */
struct srv {
	int lfd, cfd;
	uint16_t port;
	enum srv_mode mode;
	SSL_CTX *ctx;
	SSL *ssl;
	int handshakes;
};

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	static const unsigned char ours[] = "\x0a" "acme-tls/1";
	if (SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof(ours) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void srv_drop(struct srv *s)
{
	SSL_free(s->ssl);
	s->ssl = NULL;
	if (s->cfd >= 0)
		close(s->cfd);
	s->cfd = -1;
}

static void srv_pump(void *arg)
{
	struct srv *s = arg;
	if (s->cfd < 0) {
		s->cfd = accept(s->lfd, NULL, NULL);
		if (s->cfd < 0)
			return;
		assert_int_equal(fcntl(s->cfd, F_SETFL, O_NONBLOCK), 0);
		if (s->mode == SRV_HTTP) {
			const char *r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
			assert_true(send(s->cfd, r, strlen(r), 0) > 0);
		}
		if (s->mode != SRV_TLS) {
			srv_drop(s);
			return;
		}
		s->ssl = SSL_new(s->ctx);
		SSL_set_fd(s->ssl, s->cfd);
		SSL_set_accept_state(s->ssl);
	}
	int rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		s->handshakes++;
		srv_drop(s);
	} else if (SSL_get_error(s->ssl, rc) != SSL_ERROR_WANT_READ &&
	           SSL_get_error(s->ssl, rc) != SSL_ERROR_WANT_WRITE) {
		srv_drop(s);
	}
}

/* Start a server with a challenge certificate made to spec. */
static void srv_start(struct srv *s, enum srv_mode mode, const struct spec *cert)
{
	memset(s, 0, sizeof(*s));
	s->cfd = -1;
	s->mode = mode;
	s->lfd = silent_tcp(&s->port);
	assert_int_equal(fcntl(s->lfd, F_SETFL, O_NONBLOCK), 0);
	size_t len;
	EVP_PKEY *k;
	unsigned char *der = make_cert(cert, &len, &k);
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_true(s->ctx && x && SSL_CTX_use_certificate(s->ctx, x) == 1 &&
	            SSL_CTX_use_PrivateKey(s->ctx, k) == 1);
	SSL_CTX_set_alpn_select_cb(s->ctx, select_alpn, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
	OPENSSL_free(der);
	turn_hook = srv_pump;
	turn_hook_arg = s;
}

static void srv_stop(struct srv *s)
{
	srv_drop(s);
	close(s->lfd);
	SSL_CTX_free(s->ctx);
	turn_hook = NULL;
	turn_hook_arg = NULL;
}

static struct diag_report *run_with(const struct tlsalpn_opts *o, struct fake_dns *f)
{
	struct diag_loop *loop = diag_loop_new();
	struct diag_report *r = diag_report_new("t", "1", "x");
	int done = 0;
	assert_non_null(diag_tlsalpn_start(loop, o, r, count_done, &done));
	until_done(loop, f, 1, &done);
	assert_int_equal(done, 1);
	diag_loop_free(loop);
	return r;
}

static const char *summary(const struct diag_report *r, const char *id)
{
	const struct diag_finding *f = find(r, id);
	assert_non_null(f);
	return f->summary;
}

/* A whole validation against a TLS server with a challenge certificate:
 * the right key authorization passes, another does not. */
static void handshake_to_the_end(void **state)
{
	(void)state;
	struct fake_dns dns;
	fake_init(&dns, 1, 1);
	struct srv s;
	srv_start(&s, SRV_TLS, &(struct spec){.cn = NAME, .dns = {NAME}});
	struct tlsalpn_opts o = { .domain = NAME, .ns = &dns.srv, .nns = 1, .timeout_ms = 2000,
	                          .port = s.port, .profile = HTTP01_PEBBLE, .key_authorization = KA };
	struct diag_report *r = run_with(&o, &dns);
	assert_int_equal(count(r, "tlsalpn01.addr"), 1);
	assert_int_equal(find(r, "tlsalpn01.addr")->status, DIAG_OK);
	assert_int_equal(find(r, "tlsalpn01.ca")->status, DIAG_OK);
	json_t *hs = json_object_get(find(r, "tlsalpn01.addr")->evidence, "handshake");
	assert_string_equal(json_string_value(json_object_get(hs, "alpn")), "acme-tls/1");
	diag_report_free(r);
	o.key_authorization = "tok.another";
	r = run_with(&o, &dns);
	assert_int_equal(find(r, "tlsalpn01.ca")->status, DIAG_FAIL);
	assert_non_null(strstr(summary(r, "tlsalpn01.addr"), "Invalid acmeValidation extension value."));
	diag_report_free(r);
	assert_int_equal(s.handshakes, 2);
	srv_stop(&s);
	close(dns.fd);
}

/* Servers that do not finish a handshake, in Boulder's words; outside a
 * challenge, a connection closed at once is only a warning. */
static void broken_servers(void **state)
{
	(void)state;
	struct fake_dns dns;
	fake_init(&dns, 1, 1);
	struct tlsalpn_opts o = { .domain = NAME, .ns = &dns.srv, .nns = 1, .timeout_ms = 300,
	                          .profile = HTTP01_RFC8555 };
	struct srv s;
	srv_start(&s, SRV_HTTP, &(struct spec){GOOD});
	o.port = s.port;
	struct diag_report *r = run_with(&o, &dns);
	assert_string_equal(summary(r, "tlsalpn01.addr"), "127.0.0.1: Server only speaks HTTP, not TLS");
	diag_report_free(r);
	srv_stop(&s);

	srv_start(&s, SRV_CLOSE, &(struct spec){GOOD});
	o.port = s.port;
	r = run_with(&o, &dns);
	/* closed with the ClientHello unread, the kernel may send a reset */
	assert_int_equal(find(r, "tlsalpn01.addr")->status, DIAG_WARN);
	assert_true(strstr(summary(r, "tlsalpn01.addr"), "Error getting validation data (the server "
	                   "closed the connection") ||
	            strstr(summary(r, "tlsalpn01.addr"), "Connection reset by peer"));
	diag_report_free(r);
	o.key_authorization = KA;
	r = run_with(&o, &dns);
	assert_int_equal(find(r, "tlsalpn01.addr")->status, DIAG_FAIL);
	diag_report_free(r);
	o.key_authorization = NULL;
	srv_stop(&s);

	uint16_t port;
	int silent = silent_tcp(&port);
	o.port = port;
	r = run_with(&o, &dns);
	assert_string_equal(summary(r, "tlsalpn01.addr"),
	                    "127.0.0.1: Timeout after connect (your server may be slow or overloaded)");
	diag_report_free(r);
	close(silent);  /* now nothing listens there */
	r = run_with(&o, &dns);
	assert_string_equal(summary(r, "tlsalpn01.addr"), "127.0.0.1: Connection refused");
	assert_int_equal(find(r, "tlsalpn01.ca")->status, DIAG_FAIL);
	diag_report_free(r);
	close(dns.fd);
}

/* Cancel after every number of turns, from before the first answer to
 * handshakes in flight: always safe, done never runs afterwards. */
static void cancel_at_every_turn(void **state)
{
	(void)state;
	struct fake_dns dns;
	fake_init(&dns, 2, 1);
	struct srv s;
	srv_start(&s, SRV_TLS, &(struct spec){GOOD});
	for (int k = 0; k < 14; k++) {
		struct diag_loop *loop = diag_loop_new();
		struct dns_engine *e = k % 2 ? dns_engine_new(loop, 300) : NULL;
		struct diag_report *r = diag_report_new("t", "1", "x");
		struct tlsalpn_opts o = { .domain = NAME, .ns = &dns.srv, .nns = 1, .timeout_ms = 300,
		                          .port = s.port, .profile = HTTP01_PEBBLE, .engine = e };
		int done = 0;
		struct diag_probe *p = diag_tlsalpn_start(loop, &o, r, count_done, &done);
		assert_non_null(p);
		turns(loop, &dns, 1, k / 2, &done);
		if (!done)
			diag_probe_cancel(p);
		int was = done;
		drained(loop);
		assert_int_equal(done, was);
		dns_engine_free(e);
		diag_loop_free(loop);
		diag_report_free(r);
		srv_drop(&s);
	}
	srv_stop(&s);
	close(dns.fd);
}

/* diag_tlsalpn_run: a loop of its own; no resolver answers: an error. */
static void run_alone(void **state)
{
	(void)state;
	struct fake_dns dead;
	fake_init(&dead, -1, 1);
	struct diag_report *r = diag_report_new("t", "1", "x");
	struct tlsalpn_opts o = { .domain = NAME, .ns = &dead.srv, .nns = 1, .timeout_ms = 300 };
	assert_int_equal(diag_tlsalpn_run(&o, r), 0);
	const struct diag_finding *f = find(r, "tlsalpn01.dns");
	assert_non_null(f);
	assert_int_equal(f->status, DIAG_ERROR);
	assert_int_equal(r->n, 1);
	diag_report_free(r);
	close(dead.fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);  /* the test's own TLS server writes to closed sockets */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boulder_checks),
		cmocka_unit_test(malformed_values),
		cmocka_unit_test(pebble_checks),
		cmocka_unit_test(description),
		cmocka_unit_test(hostile_bytes),
		cmocka_unit_test(handshake_to_the_end),
		cmocka_unit_test(broken_servers),
		cmocka_unit_test(cancel_at_every_turn),
		cmocka_unit_test(run_alone),
	};
	return cmocka_run_group_tests_name("tlsalpn", tests, NULL, NULL);
}
