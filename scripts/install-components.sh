#!/usr/bin/env bash
# Install the Debian packages the full test suite drives for real:
#   chromium                      headless browser tests (Playwright drives /usr/bin/chromium)
#   texlive-*, biber              \cite every exported BibTeX/BibLaTeX entry with pdflatex
#   pandoc                        read exported CSL-JSON and BibTeX as a second client
#   libreoffice-writer-nogui      a second, independent PDF producer for the ingest tests
#                                 (soffice --headless --convert-to pdf; pdflatex is the third)
#   postgresql                    the suite's second pass runs on a throwaway cluster
#                                 (scripts/pg-cluster.sh; the package's own cluster is unused)
# Idempotent: packages already installed are not fetched again.
set -euo pipefail

packages=(
  chromium fonts-dejavu-core
  texlive-latex-base texlive-latex-recommended texlive-bibtex-extra biber
  pandoc
  libreoffice-writer-nogui
  postgresql
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-components: all present (${packages[*]})"
  exit 0
fi

echo "install-components: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if ! sudo -n true 2>/dev/null; then
    echo "install-components: cannot install ${missing[*]} without root;" \
         "the tests that need them will skip (run: sudo bash $0)" >&2
    [[ -z "${CI:-}" ]] || exit 1
    exit 0
  fi
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
