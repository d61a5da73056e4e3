# SPDX-License-Identifier: ISC
# bash completion for acme-dnscheck(1)                     -*- shell-script -*-
#
# Written by hand, not by scripts/gen-completions.py: do not regenerate.
# Offers every option of 'acme-dnscheck --help' (tests/integration/options.t
# checks that none is missing). DOMAIN is a name, never a file: nothing is
# offered for it. Works with and without the bash-completion package; with it,
# --ns also offers known host names.

_acme_dnscheck()
{
	local cur prev pre=
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	# --opt=value: with '=' in COMP_WORDBREAKS (the default) bash splits it
	# into "--opt" "=" "value"; without, it arrives as one word, and what is
	# offered must then carry the "--opt=" prefix.
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		pre=$prev=
		cur=${cur#*=}
	fi

	case $prev in
	--method)
		COMPREPLY=($(compgen -P "$pre" -W 'dns-01 http-01 tls-alpn-01' -- "$cur"))
		return 0
		;;
	--ca-profile)
		COMPREPLY=($(compgen -P "$pre" -W 'letsencrypt pebble rfc8555' -- "$cur"))
		return 0
		;;
	--client)
		COMPREPLY=($(compgen -P "$pre" -W 'cert-manager lego certbot acme.sh none' -- "$cur"))
		return 0
		;;
	--ns)
		COMPREPLY=()
		# Host names from /etc/hosts, ~/.ssh/known_hosts, ... when
		# bash-completion is loaded; nothing otherwise.
		if declare -F _known_hosts_real >/dev/null 2>&1; then
			_known_hosts_real -p "$pre" -- "$cur"
		fi
		return 0
		;;
	--expect | --key-authorization | --wait | --interval | --ca-domain | \
	--account-uri | --timeout)
		# A value to type: a TXT value, a number, a name or a URL.
		COMPREPLY=()
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		local -a opts=(--expect --key-authorization --wait --interval --ca-domain
			--account-uri --method --ca-profile --client -4 --ipv4 -6 --ipv6 --ns --timeout --json
			-v --verbose -q --quiet --strict --no-color --version -h --help)
		# Options already given are not offered again, except the repeatable
		# --expect, --key-authorization and --ns; -4/-6 and -q/-v exclude
		# each other.
		local -A seen=()
		local w o i
		for ((i = 1; i < COMP_CWORD; i++)); do
			w=${COMP_WORDS[i]%%=*}
			case $w in
			-4 | --ipv4 | -6 | --ipv6) seen[family]=1 ;;
			-v | --verbose | -q | --quiet) seen[verbosity]=1 ;;
			--expect | --key-authorization | --ns) ;;
			-?*) seen[$w]=1 ;;
			esac
		done
		local -a offer=()
		for o in "${opts[@]}"; do
			case $o in
			-4 | --ipv4 | -6 | --ipv6) [[ -n ${seen[family]-} ]] && continue ;;
			-v | --verbose | -q | --quiet) [[ -n ${seen[verbosity]-} ]] && continue ;;
			*) [[ -n ${seen[$o]-} ]] && continue ;;
			esac
			offer+=("$o")
		done
		COMPREPLY=($(compgen -W "${offer[*]}" -- "$cur"))
		return 0
	fi

	# DOMAIN: nothing to offer, and no file names.
	COMPREPLY=()
	return 0
}
complete -F _acme_dnscheck acme-dnscheck
