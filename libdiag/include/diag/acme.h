/* SPDX-License-Identifier: ISC */
/*
 * acme.h - the read-only ACME client core (RFC 8555): account keys and
 * JWS, directory, nonces, POST-as-GET, problem documents; and the account
 * stores of popular clients. Requests are asynchronous, on a diag loop.
 */
#ifndef DIAG_ACME_H
#define DIAG_ACME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

/* ---- keys ---- */

struct acme_key {
	EVP_PKEY *pkey;
	char alg[8];          /* JWS alg: ES256, ES384, RS256, EdDSA */
	char desc[48];        /* "EC P-256", "RSA 2048", "Ed25519" */
	int bits;
	json_t *jwk;          /* public JWK */
	char thumbprint[48];  /* RFC 7638, base64url */
};

/*
 * Load a private key: PEM (PKCS#8, SEC1 EC, PKCS#1 RSA) or JWK JSON
 * (certbot's private_key.json). A password-protected key is refused with a
 * clear error. Returns 0, or -1 with err set.
 */
int acme_key_load(const char *path, struct acme_key *k, char *err, size_t errlen);
int acme_key_from_pem(const char *pem, size_t len, struct acme_key *k, char *err, size_t errlen);
int acme_key_from_jwk(const json_t *jwk, struct acme_key *k, char *err, size_t errlen);
void acme_key_free(struct acme_key *k);
/* A public key from a public JWK (RSA, EC P-256/P-384, Ed25519), or NULL. */
EVP_PKEY *acme_jwk_public(const json_t *jwk);

/* JWS signature over "protected.payload" (base64url, raw r||s for ECDSA). */
char *acme_jws_sign(const struct acme_key *k, const char *signing_input);

/* ---- problems and responses ---- */

struct acme_problem {
	char type[160];       /* "urn:ietf:params:acme:error:accountDoesNotExist" */
	char detail[1024];
	long status;
	size_t nsub;          /* subproblems counted */
	char sub[4][512];     /* first subproblems: "identifier: type: detail" */
};

/* The short name of an ACME error type ("accountDoesNotExist"), or the type. */
const char *acme_problem_short(const struct acme_problem *p);

struct acme_resp {
	long status;          /* HTTP status, 0 if no response */
	char *body;           /* NUL-terminated, capped */
	size_t len;
	json_t *json;         /* parsed body when it is JSON, else NULL */
	char location[1024];
	char nonce[256];          /* Replay-Nonce, when it is base64url */
	char bad_nonce[256];      /* a Replay-Nonce that is not, made printable */
	char content_type[128];
	char link_up[1024];
	long retry_after;     /* seconds, -1 if none */
	int64_t date_s;       /* Date header, 0 if none */
	int64_t sent_ms, first_byte_ms;  /* wall clock, for skew */
	int is_problem;       /* application/problem+json */
	struct acme_problem prob;
	char err[256];        /* transport error, "" if none */
	int nonce_retries;    /* acme_post: badNonce answers retried for this request */
};
#define ACME_MAX_BODY (1024 * 1024)

void acme_resp_free(struct acme_resp *r);

/* Parse a problem document (RFC 7807, RFC 8555 subproblems) into p. */
int acme_problem_parse(const json_t *doc, struct acme_problem *p);

/* ---- the client: asynchronous requests on a diag loop ---- */

struct diag_loop;
struct acme_client;
struct acme_req;

/*
 * A request's outcome. cb(arg, resp) runs once, from the loop, never
 * before the call that started the request has returned. resp belongs to
 * the client and is freed when cb returns: json_incref() what you keep.
 * resp->err set means no usable HTTP answer (transport error, timeout,
 * body over ACME_MAX_BODY, or our side: out of memory, signing failed).
 */
typedef void (*acme_resp_cb)(void *arg, struct acme_resp *resp);

/* Most nonces a client keeps (the newest are used first). */
#define ACME_NONCE_POOL 16
/* badNonce answers retried per POST (RFC 8555 6.5). */
#define ACME_NONCE_RETRIES 3

/*
 * A client on loop: TLS verification on (ca_bundle: extra trust, NULL:
 * the system's; insecure only on explicit request), no redirects followed,
 * bodies capped at ACME_MAX_BODY, timeout_ms per request (<= 0: 10000).
 * Any number of requests may be in flight at once, each with its own
 * transfer. Returns NULL when out of memory.
 */
struct acme_client *acme_client_new(struct diag_loop *loop, const char *ca_bundle, int insecure,
                                    int timeout_ms);
/*
 * Cancel every request still in flight (no callback runs) and free the
 * client. NULL-safe; allowed from inside a request's callback.
 */
void acme_client_free(struct acme_client *c);

/* GET (HEAD when head is set) url. NULL when out of memory (cb never runs). */
struct acme_req *acme_get(struct acme_client *c, const char *url, int head,
                          acme_resp_cb cb, void *arg);
/*
 * GET the directory at url; a JSON object answered with 200 becomes the
 * client's directory (acme_dir_url) before cb runs.
 */
struct acme_req *acme_directory(struct acme_client *c, const char *url,
                                acme_resp_cb cb, void *arg);
/* The directory, or NULL before acme_directory() succeeded. */
const json_t *acme_client_directory(const struct acme_client *c);
/* A directory URL by name ("newAccount"), or NULL. */
const char *acme_dir_url(const struct acme_client *c, const char *name);

/*
 * POST a JWS to url: signed with kid when kid is set, with the embedded
 * jwk otherwise; payload NULL means POST-as-GET (empty payload). The nonce
 * comes from the client's pool, which every response's Replay-Nonce
 * fills; when it is empty, from a HEAD to the directory's newNonce. A
 * badNonce answer is retried with that answer's nonce, at most
 * ACME_NONCE_RETRIES times (resp->nonce_retries counts them). k must stay
 * valid until cb runs or the request is cancelled; url, kid and payload
 * are copied.
 */
struct acme_req *acme_post(struct acme_client *c, const char *url, const struct acme_key *k,
                           const char *kid, const json_t *payload, acme_resp_cb cb, void *arg);

/* Stop a request before its callback runs (then cb never runs). Not
 * from inside its own callback (the request is over then); NULL-safe. */
void acme_req_cancel(struct acme_req *q);

/* badNonce retries made by every POST of this client so far. */
int acme_client_nonce_retries(const struct acme_client *c);
/* Nonces waiting in the pool. */
size_t acme_client_nonces(const struct acme_client *c);

/* ---- account stores of other clients ---- */

enum acme_store { STORE_CERTBOT, STORE_LEGO, STORE_ACMESH };

struct acme_account_ref {
	char key_path[1024];
	char kid[1024];         /* "" if the store does not record it */
	char directory[1024];   /* "" if not recorded */
	char contact[512];      /* "" if not recorded */
	char where[1024];       /* the account's folder, for messages */
};

/*
 * Find the accounts a client stored under dir (NULL: the client's default).
 * When server is set, only accounts for that directory URL's host.
 * Returns the number found (at most max), -1 with err when dir is unusable.
 */
int acme_store_find(enum acme_store s, const char *dir, const char *server,
                    struct acme_account_ref *out, int max, char *err, size_t errlen);

#endif
