/*
 * acme.h - the read-only ACME client core (RFC 8555): account keys and
 * JWS, directory, nonces, POST-as-GET, problem documents; and the account
 * stores of popular clients.
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
	char nonce[256];
	char content_type[128];
	char link_up[1024];
	long retry_after;     /* seconds, -1 if none */
	int64_t date_s;       /* Date header, 0 if none */
	int64_t sent_ms, first_byte_ms;  /* wall clock, for skew */
	int is_problem;       /* application/problem+json */
	struct acme_problem prob;
	char err[256];        /* transport error, "" if none */
};
#define ACME_MAX_BODY (1024 * 1024)

void acme_resp_free(struct acme_resp *r);

/* Parse a problem document (RFC 7807, RFC 8555 subproblems) into p. */
int acme_problem_parse(const json_t *doc, struct acme_problem *p);

struct acme_client {
	const char *ca_bundle;   /* NULL: system trust */
	int insecure;
	int timeout_ms;
	json_t *dir;             /* the directory, after acme_directory() */
	char nonce[256];         /* the next nonce to use, "" if none */
	int nonce_retries;       /* badNonce retries made (bounded) */
	void *curl;              /* CURL *, reused */
};

int acme_client_init(struct acme_client *c, const char *ca_bundle, int insecure, int timeout_ms);
void acme_client_free(struct acme_client *c);

/* GET (or HEAD when head is set) url into r. 0 when a response arrived. */
int acme_get(struct acme_client *c, const char *url, int head, struct acme_resp *r);
/* Fetch and keep the directory. 0 on a JSON object. */
int acme_directory(struct acme_client *c, const char *url, struct acme_resp *r);
/* A directory URL by name ("newAccount"), or NULL. */
const char *acme_dir_url(const struct acme_client *c, const char *name);

/*
 * POST a JWS to url: signed with kid when kid is set, with the embedded
 * jwk otherwise; payload NULL means POST-as-GET (empty payload). A fresh
 * nonce is fetched when needed; a badNonce answer is retried with the new
 * nonce at most 3 times. 0 when a response arrived.
 */
int acme_post(struct acme_client *c, const char *url, const struct acme_key *k,
              const char *kid, const json_t *payload, struct acme_resp *r);

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
