/* SPDX-License-Identifier: ISC */
/* version.c - the versions of the libraries linked, asked at run time. */
#include <stdio.h>

#include <ares.h>
#include <curl/curl.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>

#include "diag/version.h"

int diag_library_versions(char *buf, size_t len)
{
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	return snprintf(buf, len, "c-ares %s, ldns %s, libcurl %s, OpenSSL %s, jansson %s",
	                ares_version(NULL), ldns_version(), curl ? curl->version : "?",
	                OpenSSL_version(OPENSSL_VERSION_STRING), jansson_version_str());
}
