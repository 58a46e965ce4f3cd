#!/usr/bin/env bash
# bench/fleet.sh: a query over 3 and over 10 hosts (mqsql --hosts) against the slowest host's
# own time plus one ssh connection's set-up, with and without ControlMaster (issue 29).
#
# Run as root, from the repository root, on a machine set up with .ci/postfix-setup and with
# openssh-server installed (.ci/run installs it):
#
#     sudo bash bench/fleet.sh                    # 5 runs each, 100 messages per host
#     sudo RUNS=3 MESSAGES=20 bash bench/fleet.sh # a quick look
#
# The hosts are internal/hosttest's: each a mount+UTS namespace with its own Postfix and sshd on
# 127.0.0.x; all are stopped at the end. It prints one Markdown row per fleet size, medians:
# docs/BENCHMARKS.md keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"
MQSQL_BENCH_FLEET=1 MQSQL_REQUIRE_SSH=1 RUNS="${RUNS:-5}" MESSAGES="${MESSAGES:-100}" \
	go test -v -count=1 -timeout 60m -run TestFleetBench ./bench/fleet | grep -E "^\||^(ok|FAIL|---)"
