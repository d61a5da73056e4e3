# SPDX-License-Identifier: ISC
# fish completion for acme-dnscheck(1)
#
# Written by hand, not by scripts/gen-completions.py: do not regenerate.
# Offers every option of 'acme-dnscheck --help' (tests/integration/options.t
# checks that none is missing). DOMAIN is a name, never a file.

complete -c acme-dnscheck -f

# Options of acme-dnscheck
complete -c acme-dnscheck -l expect -x -d 'TXT value that must be present at every server (repeatable)'
complete -c acme-dnscheck -l key-authorization -x -d 'Expect base64url(SHA-256(KA)), the value the CA checks (repeatable)'
complete -c acme-dnscheck -l wait -x -d 'Poll until every server agrees, at most SECONDS (0-86400)'
complete -c acme-dnscheck -l interval -x -d 'Seconds between polls with --wait (1-3600, default 5)'
complete -c acme-dnscheck -l ca-domain -x -d 'CA issuer domain for CAA (default letsencrypt.org)'
complete -c acme-dnscheck -l account-uri -x -d 'ACME account URL, checked against CAA accounturi'
complete -c acme-dnscheck -l ca-profile -x -a 'letsencrypt pebble rfc8555' -d 'Whose rules to apply'
complete -c acme-dnscheck -l client -x -a 'cert-manager lego certbot acme.sh none' -d "Judge the client's own checks as this client does (none: the CA's view)"
complete -c acme-dnscheck -l method -x -a 'dns-01 http-01 tls-alpn-01' -d 'Validation method for CAA validationmethods (default dns-01)'

# Common options
complete -c acme-dnscheck -s 4 -l ipv4 -n 'not __fish_seen_argument -s 6 -l ipv6' -d 'Use IPv4 only'
complete -c acme-dnscheck -s 6 -l ipv6 -n 'not __fish_seen_argument -s 4 -l ipv4' -d 'Use IPv6 only'
complete -c acme-dnscheck -l ns -x -a '(__fish_print_hostnames)' -d 'DNS server (repeatable): IP, IP:PORT, [IPv6]:PORT or a host name'
complete -c acme-dnscheck -l timeout -x -d 'Timeout of each query or connection, 0.1 to 300 s (default 5)'
complete -c acme-dnscheck -l json -d 'Print one acme-diag/1 JSON document instead of text'
complete -c acme-dnscheck -s v -l verbose -n 'not __fish_seen_argument -s q -l quiet' -d 'Show details and evidence of each finding'
complete -c acme-dnscheck -s q -l quiet -n 'not __fish_seen_argument -s v -l verbose' -d 'Show only findings that are not ok'
complete -c acme-dnscheck -l strict -d 'Exit 1 on warnings too'
complete -c acme-dnscheck -l no-color -d 'Never colour the output (NO_COLOR is honoured too)'
complete -c acme-dnscheck -l version -d 'Print the version and exit'
complete -c acme-dnscheck -s h -l help -d 'Print this help and exit'
