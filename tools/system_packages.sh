#!/usr/bin/env bash
# System packages (Debian/Ubuntu names) of one part of the project, installed only where missing.
#   tools/system_packages.sh report   what `make report` uses
#   tools/system_packages.sh test     that, and what only the tests use
#   ... --check                       only say what is missing, install nothing
# As root (or with password-less sudo) the missing packages are installed with apt-get.
# Otherwise each missing package is named with what needs it, and the script succeeds:
# the workflow then skips the outputs that need them (rules/common.smk says which).
set -euo pipefail

part=${1:?usage: $0 report|test [--check]}
check=${2:-}
missing=()   # "package|what needs it"

have_command() { command -v "$1" >/dev/null 2>&1; }
have_library() { ldconfig -p 2>/dev/null | grep -q "$1"; }

have_command dot || missing+=("graphviz|the rule graph in the report (rule rulegraph; skipped without it)")
for lib in "libpango-1.0.so.0:libpango-1.0-0" "libpangoft2-1.0.so.0:libpangoft2-1.0-0" \
           "libharfbuzz-subset.so.0:libharfbuzz-subset0" "libfontconfig.so.1:libfontconfig1"; do
  have_library "${lib%%:*}" || missing+=("${lib#*:}|WeasyPrint, the PDF report (rule report_pdf; skipped without it)")
done
if [ "$part" = test ]; then
  have_command pdftoppm || missing+=("poppler-utils|the tests that render the PDF report's pages")
  have_command chromium || missing+=("chromium|the tests that open the HTML report in a browser")
fi

[ ${#missing[@]} -eq 0 ] && exit 0
packages=$(printf '%s\n' "${missing[@]}" | cut -d'|' -f1 | sort -u | tr '\n' ' ')
if [ -n "$check" ]; then sudo=none
elif [ "$(id -u)" = 0 ]; then sudo=""
elif sudo -n true 2>/dev/null; then sudo="sudo"
else sudo=none; fi
if [ "$sudo" != none ] && command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
  exit 0
fi
echo "System packages missing (not installed: no root, no apt-get, or --check); ask an administrator for them, or go on without:" >&2
printf '%s\n' "${missing[@]}" | awk -F'|' '{printf "  %-22s %s\n", $1, $2}' >&2
