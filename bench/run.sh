#!/usr/bin/env bash
# bench/run.sh: mqsql side by side with Postfix's own tools, in one run, on one generated queue.
#
# Run as root, from the repository root, on a machine set up with .ci/postfix-setup:
#
#     sudo bash bench/run.sh                        # 100,000 and 1,000,000 messages, 5 runs
#     sudo SIZES=20000 RUNS=3 bash bench/run.sh     # a quick look (a few minutes)
#
# Settings (environment):
#   SIZES   queue sizes to measure, in messages (default "100000 1000000")
#   RUNS    runs of each measurement, alternated between the tools (default 5)
#   WORK    scratch directory for the spools, index files and results (default
#           /var/tmp/mqsql-bench; a 1,000,000-message spool takes about 10 GB)
#   DELETE  the mqsql side of "delete by sender": auto (on when this mqsql can run DELETE),
#           1 or 0 (default auto)
#   KEEP    1 keeps the generated spools and index files (default: deleted at the end)
#   DELETE_N how many messages "delete by sender" should delete: the victim is the sender
#           whose message count is nearest to it (default 20000)
#   RUNS_COLD, RUNS_FLOOR, RUNS_DB, RUNS_WARM, RUNS_WATCHED, RUNS_SENDERS, RUNS_DELETE
#           runs of each measurement (default RUNS; 0 skips it)
#   RUNS_SCRAPE scrapes timed on each side of "scrape" (default 10; 0 skips it)
#   WARMUP  1 reads the spool once with each tool before measuring (default 1). A spool
#           bigger than what the page cache keeps between runs is read from disk anyway.
#
# It generates a queue of each size with bench/genspool (owned by postfix; deferred and held
# mail with a far-future retry time; every recipient in a .test domain). Then, for each size,
# holding the queue lock of internal/postfixtest (/run/mqsql-postfixtest.lock) while it
# measures, it stops Postfix, moves the live queue directories aside and the generated ones
# into the queue directory (renames: inode numbers, and with them the queue IDs, stay valid),
# and measures, alternating the tools from run to run so that a noisy neighbour slows all of
# them alike:
#
#   cold        mqsql --spool Q "SELECT count(*) FROM messages"      (the default run's first:
#                                                 its cache index, $WORK/cache, built afresh)
#               postqueue -j > /dev/null                          (Postfix down: showq direct)
#               find Q/{maildrop,incoming,active,deferred,hold,defer} -type f | xargs cat
#                                                                 (the raw read floor)
#   cold --db   the same mqsql statement building an index file (--db), from scratch
#   warm        mqsql --db with the spool unchanged, and the default run again (its cache
#               index kept from the run before: "later"), against postqueue -j again
#   watched     the default run while mqsql watch (no --db) keeps its cache index current,
#               against postqueue -j; and the watcher's own peak RSS
#   senders     postqueue -p | tail | grep | awk | sort | uniq -c  against  mqsql --db "SELECT
#               sender, count(*) ... GROUP BY sender", and the SQL alone on the built index
#               (bench/querytime), with GROUP BY domain on recipients
#   delete      mailq | grep | cut | postsuper -d -  and  mqsql --db --yes --include-active
#               "DELETE FROM messages WHERE sender = ..." (--include-active: the pipeline deletes
#               mail in active too) for the sender with about DELETE_N messages, mqsql with
#               --no-backup and with its backup; the deleted files are put back after each run
#   scrape      a Prometheus scrape of mqsql's built-in metrics on the built index (bench/scrape)
#               against postqueue -j parsed into the same counts (a showq-based exporter)
#
# Wall time, CPU time and peak RSS come from /usr/bin/time. After each size (also when
# interrupted) the live queue is put back, Postfix started again if it was running, and the
# lock released. The report is
# written to $WORK/results.md and printed; raw numbers are in $WORK/raw/.
set -euo pipefail
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"
export LC_ALL=C

SIZES="${SIZES:-100000 1000000}"
RUNS="${RUNS:-5}"
WORK="${WORK:-/var/tmp/mqsql-bench}"
DELETE="${DELETE:-auto}"
KEEP="${KEEP:-0}"
DELETE_N="${DELETE_N:-20000}"
RUNS_COLD="${RUNS_COLD:-$RUNS}"
RUNS_FLOOR="${RUNS_FLOOR:-$RUNS}"
RUNS_DB="${RUNS_DB:-$RUNS}"
RUNS_WARM="${RUNS_WARM:-$RUNS}"
RUNS_WATCHED="${RUNS_WATCHED:-$RUNS}"
RUNS_SENDERS="${RUNS_SENDERS:-$RUNS}"
RUNS_DELETE="${RUNS_DELETE:-$RUNS}"
RUNS_SCRAPE="${RUNS_SCRAPE:-10}"
WARMUP="${WARMUP:-1}"
LOCK=/run/mqsql-postfixtest.lock
MARKER='# mqsql-test-config'
QUEUES=(maildrop incoming active deferred hold corrupt defer bounce trace)

die() { echo "bench: $*" >&2; exit 1; }
log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (the queue and postsuper are root's)"
[ -f go.mod ] && grep -q '^module github.com/mqsql/mqsql$' go.mod || die "run from the repository root"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
QDIR="$(postconf -h queue_directory)"
grep -qxF "$MARKER" "$(postconf -h config_directory)/main.cf" ||
	die "this Postfix was not configured by .ci/postfix-setup; refusing to touch its queue"

mkdir -p "$WORK/bin" "$WORK/raw"
BIN="$WORK/bin"
RAW="$WORK/raw"
REPORT="$WORK/results.md"
ASIDE=""
INSTALLED=""
WAS_RUNNING=0

# ---------------------------------------------------------------- the live queue

# install moves the live queue directories aside and the generated spool's into their place,
# with the live directories' owners and modes.
install_spool() {
	local spool="$1"
	ASIDE="$(mktemp -d "${QDIR%/}.bench-aside.XXXXXX")"
	for q in "${QUEUES[@]}"; do
		read -r owner group mode < <(stat -c '%U %G %a' "$QDIR/$q")
		mv "$QDIR/$q" "$ASIDE/$q"
		mkdir -p "$spool/$q"
		mv "$spool/$q" "$QDIR/$q"
		chown "$owner:$group" "$QDIR/$q"
		chmod "$mode" "$QDIR/$q"
	done
	INSTALLED="$spool"
}

# uninstall puts the generated directories back into the spool and the live ones into the
# queue directory.
uninstall_spool() {
	[ -n "$INSTALLED" ] || return 0
	for q in "${QUEUES[@]}"; do
		if [ -d "$ASIDE/$q" ]; then
			[ -d "$QDIR/$q" ] && mv "$QDIR/$q" "$INSTALLED/$q"
			mv "$ASIDE/$q" "$QDIR/$q"
		fi
	done
	rmdir "$ASIDE"
	INSTALLED=""
	ASIDE=""
}

# take_queue takes the queue lock of internal/postfixtest (no test may use the queue while it
# holds generated mail) and stops Postfix; give_queue undoes both. The lock is held while one
# size is measured, not while spools are generated.
take_queue() {
	exec 9>>"$LOCK"
	log "waiting for ${LOCK}"
	flock -w 3600 9 || die "could not take ${LOCK} within an hour"
	WAS_RUNNING=0
	if postfix status >/dev/null 2>&1; then
		WAS_RUNNING=1
		postfix stop >/dev/null 2>&1
	fi
}

give_queue() {
	uninstall_spool || echo "bench: could not put the live queue back: see ${ASIDE}" >&2
	if [ "$WAS_RUNNING" = 1 ]; then
		postfix start >/dev/null 2>&1 || echo "bench: postfix start failed" >&2
		WAS_RUNNING=0
	fi
	flock -u 9 2>/dev/null || true
}

restore() {
	local rc=$?
	stop_watcher
	give_queue
	if [ "$KEEP" != 1 ]; then
		rm -rf "$WORK"/spool-* "$WORK"/index-* "$WORK/stash" "$WORK/postfix-conf"
	fi
	exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- measuring

# measure NAME CMD... runs CMD (a shell command line) under /usr/bin/time and appends
# "wall user sys maxrss_kb" to $RAW/NAME; stdout goes to $RAW/NAME.out, stderr to
# $RAW/NAME.err.
measure() {
	local name="$1"
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$RAW/$name.time" bash -c "$*" >"$RAW/$name.out" 2>>"$RAW/$name.err" ||
		die "$name failed: $* (see $RAW/$name.err)"
	cat "$RAW/$name.time" >>"$RAW/$name"
}

# median NAME COLUMN prints the median of one column (1 wall, 2 user, 3 sys, 4 rss) of $RAW/NAME.
median() {
	[ -s "$RAW/$1" ] || { echo n/a; return; }
	awk -v c="$2" '{ print $c }' "$RAW/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu NAME prints the median of user+sys.
cpu() {
	awk '{ print $2 + $3 }' "$RAW/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9.]+$/) printf "%.0f", k / 1024; else print "n/a" }'; }

# alternate ROUND NAME... prints the names rotated by ROUND, so that each tool runs first,
# second and last in turn.
alternate() {
	local round="$1"
	shift
	local n=$#
	local names=("$@")
	for ((i = 0; i < n; i++)); do
		echo "${names[$(((i + round) % n))]}"
	done
}

# ---------------------------------------------------------------- the commands

cmd_mqsql_cold() { echo "XDG_CACHE_HOME=$CACHE $BIN/mqsql --spool $QDIR 'SELECT count(*) FROM messages'"; }
cmd_mqsql_later() { cmd_mqsql_cold; }
cmd_postqueue_j() { echo "postqueue -j 2>/dev/null >/dev/null"; }
cmd_floor() {
	echo "find $QDIR/maildrop $QDIR/incoming $QDIR/active $QDIR/deferred $QDIR/hold $QDIR/defer -type f -print0 | xargs -0 cat >/dev/null"
}
cmd_mqsql_db() { echo "$BIN/mqsql --spool $QDIR --db $DB 'SELECT count(*) FROM messages'"; }
cmd_pipeline_senders() {
	echo "postqueue -p 2>/dev/null | tail -n +2 | grep -v '^ *(' | awk 'BEGIN { RS = \"\" } { print \$7 }' | sort | uniq -c | sort -rn"
}
cmd_mqsql_senders() {
	echo "$BIN/mqsql --spool $QDIR --db $DB --format tsv --header=false 'SELECT count(*), sender FROM messages GROUP BY sender ORDER BY 1 DESC'"
}
SENDER_SQL="SELECT sender, count(*) FROM messages GROUP BY sender"
DOMAIN_SQL="SELECT domain, count(*) FROM recipients GROUP BY domain"

# ---------------------------------------------------------------- a watcher

WATCHER=""

# start_watcher runs mqsql watch without --db on the installed queue, keeping the cache index
# the default runs use, and waits until it says it is ready.
start_watcher() {
	local log="$RAW/watch-$1.log"
	XDG_CACHE_HOME="$CACHE" "$BIN/mqsql" watch --spool "$QDIR" 2>"$log" &
	WATCHER=$!
	for ((i = 0; i < 6000; i++)); do
		grep -q ' ready: ' "$log" && return 0
		kill -0 "$WATCHER" 2>/dev/null || die "mqsql watch exited: $(cat "$log")"
		sleep 0.1
	done
	die "mqsql watch was not ready after 10 minutes: $(cat "$log")"
}

stop_watcher() {
	[ -n "$WATCHER" ] || return 0
	kill "$WATCHER" 2>/dev/null || true
	wait "$WATCHER" 2>/dev/null || true
	WATCHER=""
}

# ---------------------------------------------------------------- delete by sender

# stash copies the victim's queue files and defer logs, to put them back after a deletion.
stash() {
	rm -rf "$WORK/stash"
	mkdir -p "$WORK/stash"
	awk -F'\t' -v s="$VICTIM" '$5 == s { print $3; if ($4 != "") print $4 }' "$MANIFEST" |
		(cd "$QDIR" && xargs cp -a --parents -t "$WORK/stash")
}

unstash() { cp -a "$WORK/stash/." "$QDIR/"; }

# altconf makes the configuration postsuper runs with in the delete pipelines. With Postfix
# stopped there is no postlogd, so postsuper (running as mail_owner) opens maillog_file itself,
# and this machine's /var/log/postfix.log is root's: a copy of the configuration that logs to a
# file mail_owner may write, passed in MAIL_CONFIG, changes nothing else.
altconf() {
	ALTCONF="$WORK/postfix-conf"
	rm -rf "$ALTCONF"
	cp -a "$(postconf -h config_directory)" "$ALTCONF"
	: >"$WORK/postsuper.log"
	chown "$(postconf -h mail_owner)" "$WORK/postsuper.log"
	postconf -c "$ALTCONF" -e "maillog_file = $WORK/postsuper.log"
}

cmd_pipeline_delete() {
	local re
	re="$(printf '%s' "$VICTIM" | sed 's/[.[\*^$+?(){}|]/\\&/g')"
	echo "mailq 2>/dev/null | grep -E '^[0-9A-Za-z]+[*!#]* .* ${re}\$' | cut -d' ' -f1 | tr -d '*!#' | MAIL_CONFIG=$ALTCONF postsuper -d -"
}

cmd_mqsql_delete() {
	echo "MAIL_CONFIG=$ALTCONF $BIN/mqsql --spool $QDIR --db $DB --yes --no-backup --include-active \"DELETE FROM messages WHERE sender = '$VICTIM'\""
}

# The backup goes to the spool's file system, as the default /var/lib/mqsql/quarantine does
# on a machine with one file system; it is removed after each run, outside the measurement.
cmd_mqsql_delete_backup() {
	echo "MAIL_CONFIG=$ALTCONF $BIN/mqsql --spool $QDIR --db $DB --yes --backup $WORK/quarantine --include-active \"DELETE FROM messages WHERE sender = '$VICTIM'\""
}

# delete_supported reports whether this mqsql acts on DELETE, trying it on an empty spool.
delete_supported() {
	case "$DELETE" in
	1) return 0 ;;
	0) return 1 ;;
	esac
	local empty
	empty="$(mktemp -d)"
	mkdir -p "$empty"/{maildrop,incoming,active,deferred,hold}
	local ok=1
	"$BIN/mqsql" --spool "$empty" --dry-run "DELETE FROM messages WHERE sender = 'nobody@bench.invalid'" >/dev/null 2>&1 || ok=0
	rm -rf "$empty"
	[ "$ok" = 1 ]
}

# ---------------------------------------------------------------- one size

# generate writes the spool of one size (outside the queue lock).
generate() {
	local n="$1"
	rm -rf "$WORK/spool-$n"
	log "generating $n messages in $WORK/spool-$n"
	"$BIN/genspool" -n "$n" -out "$WORK/spool-$n" -owner postfix -retry far -seed 1 -senders 30 \
		-manifest "$WORK/spool-$n.manifest" >"$RAW/gen-$n.txt"
}

bench_size() {
	local n="$1"
	local spool="$WORK/spool-$n"
	DB="$WORK/index-$n.db"
	CACHE="$WORK/cache-$n" # XDG_CACHE_HOME of the default runs
	rm -rf "$CACHE"
	MANIFEST="$WORK/spool-$n.manifest"
	rm -f "$DB" "$DB"-*
	# The victim of "delete by sender": the sender (not <>) with about DELETE_N messages.
	VICTIM="$(awk -F'\t' -v want="$DELETE_N" 'NR > 1 && $2 != "<>" {
		d = $1 - want; if (d < 0) d = -d
		if (best == "" || d < bestd) { best = $2; bestd = d } } END { print best }' "$RAW/gen-$n.txt")"
	take_queue
	install_spool "$spool"

	if [ "$WARMUP" = 1 ]; then
		log "warming the page cache"
		bash -c "$(cmd_floor)"
		bash -c "$(cmd_postqueue_j)"
		bash -c "$(cmd_mqsql_cold)" >/dev/null
	fi

	log "cold: mqsql in memory / postqueue -j ($RUNS_COLD runs) / raw read ($RUNS_FLOOR runs)"
	local tools
	for ((r = 0; r < RUNS_COLD || r < RUNS_FLOOR; r++)); do
		tools=()
		if ((r < RUNS_COLD)); then tools+=(mqsql_cold postqueue_j); fi
		if ((r < RUNS_FLOOR)); then tools+=(floor); fi
		for t in $(alternate "$r" "${tools[@]}"); do
			[ "$t" != mqsql_cold ] || rm -rf "$CACHE"
			measure "$t-$n" "$(cmd_$t)"
		done
	done
	if ((RUNS_COLD > 0)); then
		local listed counted
		listed="$(postqueue -j 2>/dev/null | wc -l)"
		counted="$(tail -n 1 "$RAW/mqsql_cold-$n.out")"
		[ "$listed" = "$counted" ] || die "mqsql counts $counted messages, postqueue -j lists $listed"
	fi

	log "cold --db: building an index file, $RUNS_DB runs"
	for ((r = 0; r < RUNS_DB || r < 1; r++)); do # the index is needed below
		rm -f "$DB" "$DB"-*
		measure "mqsql_db_cold-$n" "$(cmd_mqsql_db)"
	done

	log "warm --db and later default runs: spool unchanged, against postqueue -j, $RUNS_WARM runs"
	bash -c "$(cmd_mqsql_cold)" >/dev/null # the cache index the later runs find
	for ((r = 0; r < RUNS_WARM; r++)); do
		for t in $(alternate "$r" mqsql_db mqsql_later postqueue_j); do
			measure "warm_$t-$n" "$(cmd_$t)"
		done
	done

	if ((RUNS_WATCHED > 0)); then
		log "default runs beside mqsql watch (no --db), against postqueue -j, $RUNS_WATCHED runs"
		start_watcher "$n"
		for ((r = 0; r < RUNS_WATCHED; r++)); do
			for t in $(alternate "$r" mqsql_later postqueue_j); do
				measure "watched_$t-$n" "$(cmd_$t)"
			done
		done
		local want_count watched_count
		want_count="$(postqueue -j 2>/dev/null | wc -l)"
		watched_count="$(tail -n 1 "$RAW/watched_mqsql_later-$n.out")"
		[ "$watched_count" = "$want_count" ] ||
			die "beside mqsql watch, mqsql counts $watched_count messages, postqueue -j lists $want_count"
		awk '/^VmHWM:/ { print $2 }' "/proc/$WATCHER/status" >"$RAW/watcher_rss-$n"
		stop_watcher
	fi

	log "count by sender: pipeline / mqsql --db / the SQL alone, $RUNS_SENDERS runs"
	for ((r = 0; r < RUNS_SENDERS; r++)); do
		for t in $(alternate "$r" pipeline_senders mqsql_senders); do
			measure "$t-$n" "$(cmd_$t)"
		done
	done
	if ((RUNS_SENDERS > 0)); then
		local top_pipe top_sql
		top_pipe="$(head -n 1 "$RAW/pipeline_senders-$n.out" | awk '{ print $1 }')"
		top_sql="$(head -n 1 "$RAW/mqsql_senders-$n.out" | cut -f1)"
		[ "$top_pipe" = "$top_sql" ] || die "busiest sender: pipeline counts $top_pipe, mqsql $top_sql"
	fi
	if ((RUNS > 0)); then
		"$BIN/querytime" -db "$DB" -runs "$RUNS" "$SENDER_SQL" >"$RAW/sql_sender-$n"
		"$BIN/querytime" -db "$DB" -runs "$RUNS" "$DOMAIN_SQL" >"$RAW/sql_domain-$n"
	fi
	if ((RUNS_SCRAPE > 0)); then
		log "scrape: mqsql's metrics / postqueue -j parsed, $RUNS_SCRAPE runs each"
		"$BIN/scrape" -db "$DB" -runs "$RUNS_SCRAPE" -postqueue >"$RAW/scrape-$n"
	fi

	log "delete by sender ($VICTIM): pipeline, $RUNS_DELETE runs"
	for ((r = 0; r < RUNS_DELETE; r++)); do
		stash
		measure "pipeline_delete-$n" "$(cmd_pipeline_delete)"
		grep -o 'Deleted: [0-9]*' "$RAW/pipeline_delete-$n.err" | tail -n 1 >"$RAW/deleted-$n"
		unstash
	done
	if ((RUNS_DELETE > 0)) && delete_supported; then
		log "delete by sender: mqsql, $RUNS_DELETE runs"
		for ((r = 0; r < RUNS_DELETE; r++)); do
			stash
			measure "mqsql_delete-$n" "$(cmd_mqsql_delete)"
			grep -o '^Done: [0-9]*' "$RAW/mqsql_delete-$n.out" | tail -n 1 >"$RAW/mqsql_deleted-$n"
			unstash
			stash
			rm -rf "$WORK/quarantine"
			measure "mqsql_delete_backup-$n" "$(cmd_mqsql_delete_backup)"
			grep -o '^Done: [0-9]*' "$RAW/mqsql_delete_backup-$n.out" | tail -n 1 >"$RAW/mqsql_deleted_backup-$n"
			rm -rf "$WORK/quarantine"
			unstash
		done
	elif ((RUNS_DELETE > 0)); then
		log "delete by sender: this mqsql cannot run DELETE yet; its side is pending"
	fi
	give_queue
	report_size "$n"
}

# ---------------------------------------------------------------- the report

# query_ms prints the median of a bench/querytime result file, or n/a when that step did not
# run (RUNS=0).
query_ms() {
	if [ -s "$RAW/$1" ]; then
		sed -E 's/.*median_ms=([0-9.]+).*/\1/' "$RAW/$1"
	else
		echo n/a
	fi
}

row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
row4() { printf '| %s | %s | %s | %s |\n' "$@"; }

report_size() {
	local n="$1"
	local pq pqw floor cold db warm later watched pqwatched pipe e2e sqls sqld pdel mdel bdel
	pq="$(median "postqueue_j-$n" 1)"
	pqw="$(median "warm_postqueue_j-$n" 1)"
	floor="$(median "floor-$n" 1)"
	cold="$(median "mqsql_cold-$n" 1)"
	db="$(median "mqsql_db_cold-$n" 1)"
	warm="$(median "warm_mqsql_db-$n" 1)"
	later="$(median "warm_mqsql_later-$n" 1)"
	watched="$(median "watched_mqsql_later-$n" 1)"
	pqwatched="$(median "watched_postqueue_j-$n" 1)"
	pipe="$(median "pipeline_senders-$n" 1)"
	e2e="$(median "mqsql_senders-$n" 1)"
	sqls="$(query_ms "sql_sender-$n")"
	sqld="$(query_ms "sql_domain-$n")"
	pdel="$(median "pipeline_delete-$n" 1)"
	mdel="$(median "mqsql_delete-$n" 1)"
	bdel="$(median "mqsql_delete_backup-$n" 1)"
	{
		echo
		echo "### $n messages"
		echo
		echo "Spool: $(head -n 1 "$RAW/gen-$n.txt" | sed 's/^genspool: //')"
		echo
		echo "| measurement | median wall s | median CPU s (user+sys) | median peak RSS MB | runs |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		for m in mqsql_cold postqueue_j floor mqsql_db_cold warm_mqsql_db warm_mqsql_later warm_postqueue_j watched_mqsql_later watched_postqueue_j pipeline_senders mqsql_senders pipeline_delete mqsql_delete mqsql_delete_backup; do
			[ -s "$RAW/$m-$n" ] || continue
			row "$m" "$(median "$m-$n" 1)" "$(cpu "$m-$n")" "$(mb "$(median "$m-$n" 4)")" "$(wc -l <"$RAW/$m-$n")"
		done
		echo
		if [ -s "$RAW/sql_sender-$n" ] && [ -s "$RAW/sql_domain-$n" ]; then
			echo "SQL alone on the built index (bench/querytime, $RUNS runs): \`$SENDER_SQL\` $(cat "$RAW/sql_sender-$n");" \
				"\`$DOMAIN_SQL\` $(cat "$RAW/sql_domain-$n")."
		fi
		if [ -s "$RAW/scrape-$n" ]; then
			echo
			echo "Prometheus scrape (bench/scrape, $RUNS_SCRAPE runs; ms per scrape): $(tr '\n' ';' <"$RAW/scrape-$n" | sed 's/;$//; s/;/; /g')."
		fi
		echo
		echo "| target | measured | target | ratio |"
		echo "| --- | ---: | ---: | ---: |"
		row4 "cold index (default run, first) / postqueue -j" "${cold} s / ${pq} s" "≤ 0.5" "$(ratio "$cold" "$pq")"
		row4 "cold index / raw read floor" "${cold} s / ${floor} s" "≤ 2.0" "$(ratio "$cold" "$floor")"
		row4 "warm start --db / postqueue -j" "${warm} s / ${pqw} s" "≤ 0.08" "$(ratio "$warm" "$pqw")"
		row4 "default run, later / postqueue -j" "${later} s / ${pqw} s" "≤ 0.1" "$(ratio "$later" "$pqw")"
		if [ -s "$RAW/watched_mqsql_later-$n" ]; then
			row4 "default run beside mqsql watch / postqueue -j" "${watched} s / ${pqwatched} s" "≤ 0.1" "$(ratio "$watched" "$pqwatched")"
		fi
		row4 "GROUP BY sender (SQL)" "${sqls} ms" "< 300 ms" ""
		row4 "pipeline / GROUP BY sender (SQL)" "${pipe} s / ${sqls} ms" "≥ 20" "$(ratio "$pipe" "$(awk -v m="$sqls" 'BEGIN { print m / 1000 }')")"
		row4 "pipeline / mqsql --db GROUP BY sender (whole command)" "${pipe} s / ${e2e} s" "" "$(ratio "$pipe" "$e2e")"
		row4 "peak RSS, --db cold" "$(mb "$(median "mqsql_db_cold-$n" 4)") MB" "< 400 MB at 1M" ""
		row4 "peak RSS, --db warm" "$(mb "$(median "warm_mqsql_db-$n" 4)") MB" "< 400 MB at 1M" ""
		row4 "peak RSS, default run, first" "$(mb "$(median "mqsql_cold-$n" 4)") MB" "≤ 400 MB at 1M" ""
		row4 "peak RSS, default run, later" "$(mb "$(median "warm_mqsql_later-$n" 4)") MB" "≤ 400 MB at 1M" ""
		if [ -s "$RAW/watcher_rss-$n" ]; then
			row4 "peak RSS, default run beside mqsql watch / the watcher" "$(mb "$(median "watched_mqsql_later-$n" 4)") MB / $(mb "$(cat "$RAW/watcher_rss-$n")") MB" "" ""
		fi
		echo
		if [ -s "$RAW/pipeline_delete-$n" ]; then
			echo "Delete by sender (\`$VICTIM\`, $(cat "$RAW/deleted-$n") per run):"
			echo
			echo "| side | median wall s | ratio to the pipeline | deleted per run |"
			echo "| --- | ---: | ---: | ---: |"
			row4 "mailq \| grep \| cut \| postsuper -d -" "$pdel" "1.00" "$(cat "$RAW/deleted-$n")"
			if [ -s "$RAW/mqsql_delete-$n" ]; then
				row4 "mqsql DELETE, --no-backup" "$mdel" "$(ratio "$mdel" "$pdel")" "$(cat "$RAW/mqsql_deleted-$n")"
				row4 "mqsql DELETE, with backup" "$bdel" "$(ratio "$bdel" "$pdel")" "$(cat "$RAW/mqsql_deleted_backup-$n")"
			fi
		fi
	} >>"$REPORT"
}

machine() {
	echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- CPU: $(nproc) × $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); memory $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r)"
	echo "- Disk: $(df -h "$WORK" | awk 'NR == 2 { print $1 ", " $2 " (" $5 " used)" }'), $(stat -f -c %T "$WORK")"
	echo "- $(go version | cut -d' ' -f3); Postfix $(postconf -h mail_version); mqsql $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')"
	echo "- Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Settings: SIZES=\"$SIZES\" RUNS=$RUNS"
}

# ---------------------------------------------------------------- main

log "building mqsql, genspool and querytime"
go build -o "$BIN/mqsql" ./cmd/mqsql
go build -o "$BIN/genspool" ./bench/genspool
go build -o "$BIN/querytime" ./bench/querytime
go build -o "$BIN/scrape" ./bench/scrape
altconf
rm -f "$RAW"/*
machine >"$REPORT"
for n in $SIZES; do
	generate "$n"
done
for n in $SIZES; do
	bench_size "$n"
done
echo >>"$REPORT"
echo "- Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$REPORT"
cat "$REPORT"
