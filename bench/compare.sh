#!/usr/bin/env bash
# bench/compare.sh: two builds of mqsql side by side on one generated spool, to tell whether a
# change made reading the queue slower or bigger. No Postfix is needed: the spool is an offline
# copy made by bench/genspool, read with --spool.
#
#     bash bench/compare.sh OLD_REV [NEW_REV]      # NEW_REV defaults to the work tree
#     N=20000 RUNS=3 bash bench/compare.sh HEAD~3
#
# Settings (environment):
#   N      messages in the generated spool (default 100000)
#   RUNS   measured runs of each build and measurement, alternated (default 5)
#   WORK   scratch directory (default /var/tmp/mqsql-compare); removed at the end unless KEEP=1
#   KINDS  the measurements to make, of those below (default "cold colddb warm watch")
#   SPOOL  an existing generated spool to read instead of generating one (N is then ignored;
#          e.g. the one KEEP=1 bash bench/run.sh leaves in /var/tmp/mqsql-bench)
#
# Measurements, each after one unmeasured run of each build (page cache warm):
#   cold   mqsql --spool Q "SELECT count(*) FROM messages"   (the default index, built at start:
#          the cache directory, $WORK/cache, is emptied before each run)
#   colddb mqsql --spool Q --db NEW "SELECT count(*) ..."    (an index file built from scratch)
#   warm   mqsql --spool Q --db F "SELECT count(*) ..."      (F built before, spool unchanged)
#   watch  mqsql watch --spool Q --db F, until it logs "ready" (its first pass on a loaded index
#          is the full reconcile it repeats every --reconcile); peak RSS is the watcher's VmHWM
#          then
# Wall time and peak RSS come from /usr/bin/time. The report (medians, ranges, ratios new/old)
# is printed as a Markdown table; raw numbers are in $WORK/raw.
set -euo pipefail
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"
export LC_ALL=C

OLD="${1:?usage: bench/compare.sh OLD_REV [NEW_REV]}"
NEW="${2:-}"
N="${N:-100000}"
RUNS="${RUNS:-5}"
WORK="${WORK:-/var/tmp/mqsql-compare}"
KEEP="${KEEP:-0}"
SPOOL="${SPOOL:-}"
SQL="SELECT count(*) FROM messages"
KINDS="${KINDS:-cold colddb warm watch}"

cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "compare.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/raw"
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

# build REV NAME builds mqsql at REV ("" = the work tree) into $WORK/bin/NAME.
build() {
	local rev="$1" name="$2"
	local src="$WORK/src-$name"
	if [ -z "$rev" ]; then
		go build -o "$WORK/bin/$name" ./cmd/mqsql
		return
	fi
	mkdir -p "$src"
	git archive "$rev" | tar -x -C "$src"
	(cd "$src" && go build -o "$WORK/bin/$name" ./cmd/mqsql)
}

# measure NAME KIND ARGS... runs one measurement and appends "wall_s rss_kb" to raw/NAME-KIND.
measure() {
	local name="$1" kind="$2"
	shift 2
	/usr/bin/time -f '%e %M' -o "$WORK/raw/$name-$kind.one" "$WORK/bin/$name" "$@" >/dev/null
	cat "$WORK/raw/$name-$kind.one" >>"$WORK/raw/$name-$kind"
}

# measure_watch NAME starts mqsql watch on NAME's index, waits until it is ready, and appends
# "seconds_to_ready rss_kb" (its VmHWM) to raw/NAME-watch.
measure_watch() {
	local name="$1" log="$WORK/raw/$1-watch.log" start pid
	start="$(date +%s.%N)"
	"$WORK/bin/$name" watch --spool "$Q" --db "$WORK/$name.db" 2>"$log" &
	pid=$!
	until grep -q ' ready: ' "$log"; do
		kill -0 "$pid" 2>/dev/null || { echo "compare.sh: $name watch exited: $(cat "$log")" >&2; exit 1; }
		sleep 0.05
	done
	echo "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') $(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")" >>"$WORK/raw/$name-watch"
	kill "$pid"
	wait "$pid" || true
}

# median FILE COLUMN prints the median of a column of numbers.
median() { sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
range() { sort -n -k"$2" "$1" | awk -v c="$2" 'NR==1{lo=$c} {hi=$c} END {print lo "–" hi}'; }

echo "compare.sh: building old (${OLD}) and new (${NEW:-work tree})" >&2
build "$OLD" old
build "$NEW" new
Q="$SPOOL"
if [ -z "$Q" ]; then
	go build -o "$WORK/bin/genspool" ./bench/genspool
	echo "compare.sh: generating $N messages" >&2
	"$WORK/bin/genspool" -n "$N" -out "$WORK/spool" -retry far -seed 1 -senders 30 >"$WORK/raw/gen.txt"
	Q="$WORK/spool"
else
	echo "genspool: the spool $Q" >"$WORK/raw/gen.txt"
fi

# The default run of builds that keep a cache index keeps it here, emptied before each cold run.
export XDG_CACHE_HOME="$WORK/cache"
for name in old new; do
	"$WORK/bin/$name" --spool "$Q" "$SQL" >/dev/null # warm the page cache
	"$WORK/bin/$name" --spool "$Q" --db "$WORK/$name.db" "$SQL" >/dev/null
done
for i in $(seq "$RUNS"); do
	echo "compare.sh: run $i of $RUNS" >&2
	for name in old new; do
		for kind in $KINDS; do
			case "$kind" in
			cold)
				rm -rf "$XDG_CACHE_HOME"
				measure "$name" cold --spool "$Q" "$SQL"
				;;
			colddb)
				rm -f "$WORK/new.db" "$WORK/new.db-wal" "$WORK/new.db-shm"
				measure "$name" colddb --spool "$Q" --db "$WORK/new.db" "$SQL"
				;;
			warm) measure "$name" warm --spool "$Q" --db "$WORK/$name.db" "$SQL" ;;
			watch) measure_watch "$name" ;;
			*)
				echo "compare.sh: no measurement $kind" >&2
				exit 2
				;;
			esac
		done
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (a > 0) ? b / a : 0}'; }
echo
echo "Spool: $(head -n 1 "$WORK/raw/gen.txt" | sed 's/^genspool: //')"
echo
echo "| measurement ($RUNS runs each, alternated) | old ${OLD} | new ${NEW:-work tree} | new/old |"
echo "| --- | --- | --- | --- |"
for kind in $KINDS; do
	ow="$(median "$WORK/raw/old-$kind" 1)" nw="$(median "$WORK/raw/new-$kind" 1)"
	orss="$(median "$WORK/raw/old-$kind" 2)" nrss="$(median "$WORK/raw/new-$kind" 2)"
	echo "| $kind: wall, median (range) | ${ow} s ($(range "$WORK/raw/old-$kind" 1)) | ${nw} s ($(range "$WORK/raw/new-$kind" 1)) | $(ratio "$ow" "$nw") |"
	echo "| $kind: peak RSS, median | $((${orss%.*} / 1024)) MB | $((${nrss%.*} / 1024)) MB | $(ratio "$orss" "$nrss") |"
done
