#!/usr/bin/env bash
# Regenerate testdata/spool.postqueue.jsonl: what the real `postqueue -j` prints for the
# spool tree in testdata/spool.
#
# Run as root on a machine set up with .ci/postfix-setup:  bash testdata/capture-oracle.sh
#
# It takes the queue lock that internal/postfixtest uses, stops Postfix, moves the live
# queue directories aside (nothing in them is lost), installs testdata/spool in their
# place with the owners and modes Postfix would have given it, runs `postqueue -j` (with
# the mail system down, root's postqueue runs showq itself), and puts everything back,
# restarting Postfix if it was running. The output is sorted by queue_id.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"

if [ "$(id -u)" -ne 0 ]; then
	echo "capture-oracle: must run as root" >&2
	exit 1
fi

here="$(cd "$(dirname "$0")" && pwd)"
src="${here}/spool"
out="${here}/spool.postqueue.jsonl"
queue_dir="$(postconf -h queue_directory)"
main_cf="$(postconf -h config_directory)/main.cf"
# Far in the future, like a deferred file's next-retry mtime (2100-01-01 00:00:00 UTC).
future=4102444800
queues=(maildrop incoming active deferred hold corrupt defer bounce trace)

if ! grep -qxF '# mqsql-test-config' "$main_cf"; then
	echo "capture-oracle: ${main_cf} was not written by .ci/postfix-setup; refusing to touch this queue" >&2
	exit 1
fi

# Same lock as internal/postfixtest: no test may use the queue meanwhile.
exec 9>>/run/mqsql-postfixtest.lock
flock -w 900 9

was_running=0
if postfix status >/dev/null 2>&1; then
	was_running=1
	postfix stop
fi

aside="$(mktemp -d "${queue_dir%/}.oracle-aside.XXXXXX")"
restore() {
	for q in "${queues[@]}"; do
		if [ -d "${aside}/${q}" ]; then
			rm -rf "${queue_dir:?}/${q}"
			mv "${aside}/${q}" "${queue_dir}/${q}"
		fi
	done
	rmdir "$aside"
	if [ "$was_running" = 1 ]; then
		postfix start
	fi
}
trap restore EXIT

for q in "${queues[@]}"; do
	read -r owner group mode < <(stat -c '%U %G %a' "${queue_dir}/${q}")
	mv "${queue_dir}/${q}" "${aside}/${q}"
	mkdir "${queue_dir}/${q}"
	chown "${owner}:${group}" "${queue_dir}/${q}"
	chmod "$mode" "${queue_dir}/${q}"
done

# Install the test spool. Git keeps only the owner-execute bit: executable = complete.
(cd "$src" && find . -type f ! -name .gitkeep -printf '%P\n') | sort | while IFS= read -r rel; do
	q="${rel%%/*}"
	dst="${queue_dir}/${rel}"
	dir="$(dirname "$dst")"
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		chown postfix:postfix "$dir"
		chmod 0700 "$dir"
	fi
	cp "${src}/${rel}" "$dst"
	chown postfix:postfix "$dst"
	case "$q" in
	defer | bounce | trace | corrupt) chmod 0600 "$dst" ;;
	*)
		if [ -x "${src}/${rel}" ]; then
			chmod 0700 "$dst"
		elif [ "$q" = maildrop ]; then
			chmod 0644 "$dst" # postdrop file still being written
		else
			chmod 0600 "$dst" # cleanup file still being written
		fi
		;;
	esac
	if [ "$q" = deferred ]; then
		touch -d "@${future}" "$dst"
	fi
done

# Sort by queue_id (IDs contain no tabs or quotes).
postqueue -j |
	sed -E 's/^(.*"queue_id": "([^"]*)".*)$/\2\t\1/' |
	LC_ALL=C sort -t "$(printf '\t')" -k1,1 |
	cut -f2- >"${out}.tmp"
mv "${out}.tmp" "$out"
echo "capture-oracle: wrote $(wc -l <"$out") entries to ${out}"
