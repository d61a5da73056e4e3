/* diag.h - libdiag, the acme-diag probe library: the umbrella header. */
#ifndef DIAG_H
#define DIAG_H

#include "diag/finding.h"
#include "diag/render.h"
#include "diag/loop.h"
#include "diag/dns.h"
#include "diag/caa.h"
#include "diag/keyauth.h"
#include "diag/dnscheck.h"
#include "diag/http01.h"
#include "diag/clock.h"

#ifndef DIAG_VERSION
#define DIAG_VERSION "0.1.0"
#endif

#endif
