#!/usr/bin/env bash
# Ceph RADOS Gateway on a throw-away single node: one monitor, one memstore OSD and radosgw, all
# on 127.0.0.1, state under STATE_DIR/rgw/. A real S3 implementation: it verifies SigV4, has real
# multipart uploads (ETags, ListParts, Abort) and conditional writes.
#
# Usage: rgw.sh start|stop STATE_DIR
#   start: builds the cluster, waits until the gateway answers, creates a user with fixed test
#          keys, writes STATE_DIR/rgw.env (ENDPOINT, ACCESS_KEY, SECRET_KEY, REGION).
#   stop:  kills the three daemons (by their pid files) and removes the state.
# Installs nothing: the Debian packages come from scripts/install-deps.
#
# Why each setting (found by running it here, see docs in /work/shared/PEERS.md):
# - auth none and ms_bind_msgr2=false: no keyrings to create, one v1 messenger address each.
# - memstore: no disk formatting, fast start; data lives in the OSD's memory (about 140 MB).
# - pool size 1, pg_num 8 and no autoscaling: radosgw creates ~7 pools on its first start and a
#   single OSD must be allowed to hold all their PGs.
# - each daemon runs in the foreground (-f) under setsid: a daemonised OSD died here, and setsid
#   keeps them out of the caller's process group (CTest's) while we keep their pids.
set -euo pipefail

cmd="${1:-}"
state="${2:-}"
[[ -n "$cmd" && -n "$state" ]] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
mkdir -p "$state"
state="$(cd "$state" && pwd)"
dir="$state/rgw"
env_file="$state/rgw.env"
conf="$dir/ceph.conf"
start_timeout=90  # seconds for the whole start; normally about 15
access_key="THUMBFLOWTESTKEY0001"
secret_key="thumbflow-test-secret-key-0001-do-not-use"
user="thumbflow-test"

log() { echo "rgw.sh: $*" >&2; }

stop_daemon() {
  local name="$1" pid
  [[ -f "$dir/$name.pid" ]] || return 0
  pid="$(cat "$dir/$name.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  # Gateway first, then the OSD, then the monitor: each depends on the next.
  for d in radosgw osd mon; do stop_daemon "$d"; done
  rm -rf "$dir" "$env_file"
}

free_port() {
  # A port nothing on this machine listens on (a small race with other starters is accepted:
  # a daemon that cannot bind fails the start loudly).
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Hltn "sport = :$port" | grep -q .; then echo "$port"; return 0; fi
  done
  log "no free port found"; return 1
}

deadline=0
remaining() { echo $((deadline - SECONDS)); }
die() {
  log "$*"
  for f in "$dir"/log/*.out "$dir"/log/*.log; do
    [[ -s "$f" ]] || continue
    log "--- last lines of $f"; tail -n 25 "$f" >&2
  done
  [[ "${RGW_KEEP_STATE:-0}" == 1 ]] && { log "state kept in $dir (RGW_KEEP_STATE=1)"; exit 1; }
  stop
  exit 1
}

# The ceph CLI sometimes sends its first command before it has the monmap (the monitor logs
# "handle_command on fsid 00000000-..." and the CLI says "EPERM: problem getting command
# descriptions"). Every command used here is idempotent (osd create with a fixed uuid, crush
# add/move), so retry a few times.
ceph_cmd() {
  local attempt out
  for attempt in 1 2 3 4 5; do
    if out="$(timeout 20 ceph -c "$conf" --connect-timeout 10 "$@" 2>>"$dir/log/ceph-cli.err")"; then
      printf '%s\n' "$out"
      return 0
    fi
    sleep 0.5
  done
  tail -n 3 "$dir/log/ceph-cli.err" >&2
  return 1
}

run_daemon() {  # name, then the command; records the pid
  local name="$1"; shift
  setsid "$@" -c "$conf" -f >"$dir/log/$name.out" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

alive() { kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

start() {
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph ss curl; do
    command -v "$b" >/dev/null || { log "$b is missing (run scripts/install-deps)"; exit 1; }
  done
  stop  # leftovers of an earlier run
  deadline=$((SECONDS + start_timeout))
  mkdir -p "$dir"/{mon,osd/ceph-0,run,log,rgw}
  local mon_port rgw_port fsid
  mon_port="$(free_port)"
  rgw_port="$(free_port)"
  while [[ "$rgw_port" == "$mon_port" ]]; do rgw_port="$(free_port)"; done
  fsid="$(cat /proc/sys/kernel/random/uuid)"

  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v1:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr2 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
auth_allow_insecure_global_id_reclaim = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
osd_crush_update_on_start = false
osd_class_update_on_start = false
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
pid_file =
keyring = /dev/null
mon_data = $dir/mon/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = 1073741824
osd_memory_target = 536870912
mon_data_avail_warn = 1
mon_data_avail_crit = 0

[client.rgw.thumbflow]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_data = $dir/rgw
rgw_enable_usage_log = false
EOF

  # Monitor.
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1 || die "ceph-mon --mkfs failed"
  run_daemon mon ceph-mon -i a
  until ceph_cmd mon stat >/dev/null 2>&1; do
    alive mon || die "the monitor exited during start"
    (( $(remaining) > 0 )) || die "the monitor did not answer in time"
    sleep 0.2
  done

  # One memstore OSD on a host bucket under the default root.
  # The OSD must be formatted with the uuid the monitor registered, or the monitor refuses its boot.
  local id osd_uuid
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  id="$(ceph_cmd osd create "$osd_uuid")" || die "ceph osd create failed"
  [[ "$id" == 0 ]] || die "expected OSD id 0, got '$id'"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1 || die "ceph-osd --mkfs failed"
  ceph_cmd osd crush add-bucket localhost host >/dev/null 2>&1 || die "crush add-bucket failed"
  ceph_cmd osd crush move localhost root=default >/dev/null 2>&1 || die "crush move failed"
  ceph_cmd osd crush add osd.0 1.0 host=localhost >/dev/null 2>&1 || die "crush add failed"
  run_daemon osd ceph-osd -i 0
  until ceph_cmd osd stat 2>/dev/null | grep -q '1 up'; do
    alive osd || die "the OSD exited during start"
    (( $(remaining) > 0 )) || die "the OSD did not come up in time"
    sleep 0.3
  done

  # Gateway (creates its pools on first start).
  run_daemon radosgw radosgw -n client.rgw.thumbflow
  until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rgw_port/"; do
    alive radosgw || die "radosgw exited during start"
    (( $(remaining) > 0 )) || die "radosgw did not answer in time"
    sleep 0.3
  done

  timeout 30 radosgw-admin -c "$conf" -n client.rgw.thumbflow user create --uid="$user" --display-name="thumbflow tests" \
    --access-key="$access_key" --secret-key="$secret_key" >"$dir/log/user-create.out" 2>&1 ||
    die "radosgw-admin user create failed: $(tail -n 5 "$dir/log/user-create.out")"

  cat >"$env_file" <<EOF
ENDPOINT=http://127.0.0.1:$rgw_port
ACCESS_KEY=$access_key
SECRET_KEY=$secret_key
REGION=us-east-1
EOF
  log "RADOS Gateway on http://127.0.0.1:$rgw_port (mon 127.0.0.1:$mon_port) after ${SECONDS}s"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
