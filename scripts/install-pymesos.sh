#!/usr/bin/env bash
# Install pymesos 0.3.15 into a venv on Python 3.11.
#
# pymesos depends on http-parser 0.9.0, whose C extension does not build on 3.11
# (longintrepr.h moved). http_parser falls back to its pure-Python parser
# (http_parser.pyparser) when the extension is absent, so we copy only the package's
# .py files into site-packages and install pymesos itself without dependencies
# (its other dependencies, six/addict/kazoo, come from requirements-dev.txt).
#
# Usage: scripts/install-pymesos.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail

python=${1:-.venv/bin/python}
http_parser_version=0.9.0
pymesos_version=0.3.15

if "$python" -c "import pymesos, http_parser.pyparser" 2>/dev/null \
   && "$python" -m pip show pymesos 2>/dev/null | grep -qx "Version: $pymesos_version"; then
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
    --dest "$work" "http-parser==$http_parser_version"
tar -xzf "$work"/http-parser-"$http_parser_version".tar.gz -C "$work"

site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -rf "$site/http_parser"
mkdir -p "$site/http_parser"
cp "$work"/http-parser-"$http_parser_version"/http_parser/*.py "$site/http_parser/"

"$python" -m pip install --quiet --disable-pip-version-check --no-deps "pymesos==$pymesos_version"

"$python" -c "import pymesos, http_parser.pyparser"
