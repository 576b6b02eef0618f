#!/usr/bin/env bash
# Pull audit survives kill -9. Pulls are journaled by quayd and indexed later
# into quay-audit.db; here indexing is held off (another process holds the
# events database's write lock) so that every pull is only in the journal when
# quayd is killed. After a restart and a clean stop each acknowledged pull is
# a pull_repo row exactly once, the database passes integrity_check, and no
# journal segment is left.
#
# usage: crash_audit.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
is_quayd || skip "crash_audit.sh tests quayd's audit journal"
has_users || skip "this quayd has no users"
need_tool jq
need_tool sqlite3
skopeo_setup

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
REPO=$E2E_USER/audited
PULLS=120
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'

quayd_start
sk_copy oci:"$IMAGES/image":latest "docker://$REG/$REPO:v1"
AUDIT_DB=$DATA_DIR/quay-audit.db
[[ -f $AUDIT_DB ]] || fail "no $AUDIT_DB while quayd runs"
pulls_indexed() { sqlite3 "$AUDIT_DB" "SELECT count(*) FROM audit_log WHERE kind='pull_repo' AND repository='$REPO'"; }
[[ $(pulls_indexed) == 0 ]] || fail "pull_repo rows before any pull"

# Hold the events database's write lock: quayd keeps journaling, cannot index.
LOCK_FIFO=$WORK/lock.fifo
mkfifo "$LOCK_FIFO"
sqlite3 "$AUDIT_DB" <"$LOCK_FIFO" >/dev/null 2>&1 &
LOCK_PID=$!
track_bg "$LOCK_PID"
exec 7>"$LOCK_FIFO"
# Taken for certain, not assumed after a pause: the holder waits for the
# lock (quayd's indexer may hold it for a moment), says so through a file,
# and a second writer must then be refused.
echo ".timeout 10000" >&7
echo "BEGIN EXCLUSIVE; SELECT 1;" >&7
echo ".shell touch '$WORK/locked'" >&7
for ((t = 0; t < 200; t++)); do
    [[ -f $WORK/locked ]] && break
    sleep 0.05
done
[[ -f $WORK/locked ]] || fail "the lock holder never got past BEGIN EXCLUSIVE"
if sqlite3 "$AUDIT_DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; then
    fail "the audit database is not locked after BEGIN EXCLUSIVE"
fi

log "$PULLS pulls while the audit database is locked"
for ((i = 0; i < PULLS; i++)); do
    req GET "$BASE_URL/v2/$REPO/manifests/v1" -H "$ACCEPT"
    expect_code 200 "pull #$i"
done
sleep 0.5 # the journal is written every few milliseconds
segments=$(find "$DATA_DIR/quay-audit-journal" -name '*.log' -size +0 | wc -l)
[[ $segments -ge 1 ]] || fail "no journal segment holds the pulls"
quayd_kill9
exec 7>&-
wait "$LOCK_PID" 2>/dev/null || true
[[ $(pulls_indexed) == 0 ]] || fail "pulls were indexed although the database was locked"

log "restart: the dead server's journal is adopted; a clean stop indexes it"
quayd_start "$DATA_DIR"
quayd_stop
got=$(pulls_indexed)
[[ $got == "$PULLS" ]] || fail "expected $PULLS pull_repo rows after the restart, found $got"
out=$(sqlite3 "$AUDIT_DB" 'PRAGMA integrity_check;')
[[ $out == ok ]] || fail "integrity_check on quay-audit.db: $out"
left=$(find "$DATA_DIR/quay-audit-journal" -name '*.log' | wc -l)
[[ $left == 0 ]] || fail "$left journal segment(s) left after a clean stop"
log "all $PULLS pulls recorded once after kill -9"

