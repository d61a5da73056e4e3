/* SPDX-License-Identifier: ISC */
/* diag.h - libdiag, the acme-diag probe library: the umbrella header. */
#ifndef DIAG_H
#define DIAG_H

#include "diag/version.h"
#include "diag/finding.h"
#include "diag/render.h"
#include "diag/loop.h"
#include "diag/probe.h"
#include "diag/dns.h"
#include "diag/caa.h"
#include "diag/keyauth.h"
#include "diag/dnscheck.h"
#include "diag/http01.h"
#include "diag/tlsalpn.h"
#include "diag/policy.h"
#include "diag/clients.h"
#include "diag/psl.h"
#include "diag/clock.h"
#include "diag/acme.h"
#include "diag/account.h"
#include "diag/authz.h"
#include "diag/jws.h"
#include "diag/diagnosis.h"
#include "diag/render_ci.h"
#include "diag/render_metrics.h"
#include "diag/doctor.h"
#include "diag/k8s.h"
#include "diag/ratelimit.h"
#include "diag/cert.h"
#include "diag/crl.h"
#include "diag/revcheck.h"
#include "diag/certcheck.h"


#endif
