#!/usr/bin/env bash
# Fills exchange/in with the real XÖV sample messages from ../shared/data (copied, so the
# originals stay untouched) and creates exchange/out. Run it again to start over.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${FACHADAPTER_SHARED_DATA:-$here/../../../shared/data}
if [ ! -d "$data/xoev" ]; then
  echo "setup.sh: the XÖV sample data is not at $data (set FACHADAPTER_SHARED_DATA)" >&2
  exit 1
fi
rm -rf "$here/exchange"
mkdir -p "$here/exchange/in" "$here/exchange/out"
cp "$data"/xoev/xbeteiligung-1.2/samples/*.xml "$data"/xoev/xdomea-3.0.0/samples/*.xml "$here/exchange/in/"
echo "exchange/in holds $(ls "$here/exchange/in" | wc -l) messages"
