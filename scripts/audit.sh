#!/usr/bin/env bash
# `make audit`: known vulnerabilities in the installed Python environment (pip-audit) and in the
# theme-check tool's npm tree (npm audit). The theme app extension itself (extensions/) has no npm
# dependencies; tools/theme-check is the only package.json.
#
# Fails closed: a dependency pip-audit could not look up (`--strict`), or an advisory service
# that cannot be reached, is a failure with a message saying so, never a silent pass. On a
# machine without access to the vulnerability services (PyPI's JSON API with its
# `vulnerabilities` field, or OSV; npm's bulk advisory endpoint) this target fails, by design.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SERVICE=${PIP_AUDIT_SERVICE:-pypi}   # pypi (PyPI's JSON API) or osv (api.osv.dev)
status=0

echo "pip-audit ($SERVICE) on the installed environment"
# The project itself is installed editable and is not on PyPI: skip only it, by name.
if ! "$BIN/pip-audit" --strict --progress-spinner off --vulnerability-service "$SERVICE" \
        --skip-editable 2>&1 | tee /tmp/notifyme-pip-audit.$$ ; then
    status=1
    if grep -q "could not be audited\|ConnectionError\|Failed to resolve" /tmp/notifyme-pip-audit.$$; then
        echo "make audit: FAILED — pip-audit could not reach its vulnerability source ($SERVICE)" \
             "or could not look some packages up; nothing was proven safe." >&2
        echo "  Try PIP_AUDIT_SERVICE=osv (or pypi) from a machine that reaches it." >&2
    else
        echo "make audit: FAILED — known vulnerabilities above; bump the pinned versions." >&2
    fi
fi
rm -f /tmp/notifyme-pip-audit.$$

echo "npm audit --audit-level=high in tools/theme-check"
if ! (cd tools/theme-check && npm audit --audit-level=high --omit=dev); then
    status=1
    echo "make audit: FAILED — npm audit found high/critical advisories, or its advisory" \
         "endpoint did not answer (see above): nothing was proven safe." >&2
fi
exit $status
