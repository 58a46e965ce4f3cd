#!/usr/bin/env bash
# Delivery history ingest beside pflogsumm on the same generated Postfix log: wall time,
# lines per second and peak RSS (GNU time's %M) of
#   mqsql --no-cache --log FILE "SELECT count(*) FROM deliveries"  (on the repo's small test spool)
#   pflogsumm FILE
# LINES (default 5,000,000) lines from bench/genlog. Needs pflogsumm (Debian's package) and
# /usr/bin/time. The machine's load changes the figures: run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${LINES:-5000000}"
work="$(mktemp -d /root/mqsql-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/mqsql" ./cmd/mqsql
go build -o "$work/genlog" ./bench/genlog
"$work/genlog" -lines "$LINES" > "$work/mail.log"
echo "log: $LINES lines, $(du -h "$work/mail.log" | cut -f1)"
measure() {
	local name="$1"; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2>/dev/null
	read -r secs kb < "$work/time"
	awk -v n="$name" -v s="$secs" -v kb="$kb" -v l="$LINES" \
		'BEGIN { printf "%-10s %8.1f s %10.0f lines/s %7.0f MB peak RSS\n", n, s, l / s, kb / 1024 }'
}
measure mqsql "$work/mqsql" --spool testdata/spool --no-cache --history-days 3650 --log "$work/mail.log" \
	"SELECT count(*) FROM deliveries"
measure pflogsumm pflogsumm "$work/mail.log"
