#!/usr/bin/env bash
# `make audit`: known vulnerabilities in the installed Python environment (pip-audit) and in the
# theme-check tool's npm tree (npm audit). The theme app extension itself (extensions/) has no npm
# dependencies; tools/theme-check is the only package.json.
#
# Exit codes: 0 every package was looked up and none has a known vulnerability; 1 a known
# vulnerability (or an audit that broke for another reason); 3 an advisory source could not be
# reached or could not look a package up, so nothing was proven either way. A 3 is never
# reported as a pass: the summary says "NOT AUDITED" and which source failed. `.ci/run` fails on
# 1 and, on a machine whose registry mirror serves no advisories (this workplace: PyPI's
# per-version JSON answers 404, api.osv.dev does not resolve, npm's bulk advisory endpoint
# answers 405), reports 3 loudly without failing; AUDIT_REQUIRED=1 makes a 3 fail too.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SERVICE=${PIP_AUDIT_SERVICE:-pypi}   # pypi (PyPI's JSON API) or osv (api.osv.dev)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
python_status=0
npm_status=0

echo "pip-audit ($SERVICE) on the installed environment"
# The project itself is installed editable and is not on PyPI: skip only it, by name.
if ! "$BIN/pip-audit" --strict --progress-spinner off --vulnerability-service "$SERVICE" \
        --skip-editable >"$log" 2>&1; then
    cat "$log"
    if grep -qi "found [1-9][0-9]* known vulnerabilit" "$log"; then
        python_status=1
    elif grep -q "could not be audited\|ConnectionError\|Failed to resolve\|Max retries" "$log"; then
        python_status=3
    else
        python_status=1
    fi
else
    cat "$log"
fi

echo "npm audit --audit-level=high in tools/theme-check"
if ! (cd tools/theme-check && npm audit --audit-level=high --omit=dev) >"$log" 2>&1; then
    cat "$log"
    if grep -qi "found [1-9][0-9]* .*vulnerabilit" "$log"; then
        npm_status=1
    elif grep -q "audit endpoint returned an error\|ENOTFOUND\|ECONNREFUSED\|ETIMEDOUT" "$log"; then
        npm_status=3
    else
        npm_status=1
    fi
else
    cat "$log"
fi

summary() {
    case $2 in
        0) echo "  $1: audited, no known vulnerability" ;;
        1) echo "  $1: FAILED — known vulnerabilities (or a broken audit) above; bump the pins" ;;
        3) echo "  $1: NOT AUDITED — its advisory source could not be reached or could not look" \
                "every package up (see above); nothing was proven safe" ;;
    esac
}
echo "make audit:"
summary "Python (pip-audit, $SERVICE)" $python_status
summary "npm (tools/theme-check)" $npm_status
if [ $python_status -eq 1 ] || [ $npm_status -eq 1 ]; then
    exit 1
fi
if [ $python_status -eq 3 ] || [ $npm_status -eq 3 ]; then
    exit 3
fi
exit 0
