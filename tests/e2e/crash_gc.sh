#!/usr/bin/env bash
# Garbage collection killed with SIGKILL: `quayd gc` deletes from the database
# first and from storage second, in small transactions, so killing it at any
# point leaves a consistent database and at worst blob files without a row,
# which the next run removes.
#   1. quayd serve (background GC off) receives many small images; most of
#      their tags are then deleted. The server stops.
#   2. quayd gc (protection and recovery windows 0, so all of that is garbage)
#      is killed while deleting manifests, and again while deleting blobs.
#   3. SQLite integrity_check and foreign_key_check are clean; a third run
#      (also given blob files whose rows are gone, as a kill between a
#      batch's two steps leaves them) completes and leaves every blob row with
#      its file and no file without a row; a fourth run finds nothing.
#   4. quayd serve again: every image that kept its tag pulls completely (by
#      tag and digest, every blob hashed), every collected one is gone, and
#      every blob file hashes to its name.
#
# usage: crash_gc.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
is_quayd || skip "crash_gc.sh exercises quayd gc; the reference registry has none"
need_tool sqlite3
"$QUAYD" gc --help | grep -q -- '--protection-window' ||
    fail "quayd gc has no --protection-window flag"

IMAGES=${CRASH_GC_IMAGES:-3000}
KEEP_EVERY=10
HELPER=("$PYTHON" "$E2E_DIR/crash_gc.py")

# Background GC off: only the gc runs below collect. No fsync while pushing:
# this test is about GC's crash safety, and quayd gc itself runs durable.
QUAYD_ARGS=(--gc-interval 0 --no-fsync --log-level warn)

# --- 1. push, then delete most tags ---------------------------------------------
new_data_dir
# With token auth, pushes go to the namespace of a user made for the test.
if "$QUAYD" --help | grep -q '^  user '; then
    export CRASH_GC_CREDENTIALS="gc:crash-gc-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "${CRASH_GC_CREDENTIALS#gc:}" |
        "$QUAYD" user add gc --data-dir "$DATA_DIR" >/dev/null ||
        fail "quayd user add gc failed"
fi
quayd_start
log "pushing $IMAGES images, deleting the tag of all but every ${KEEP_EVERY}th"
"${HELPER[@]}" push "$BASE_URL" "$WORK/pushed.json" "$IMAGES" "$KEEP_EVERY"
quayd_stop
DB=$DATA_DIR/quay.db

GC=("$QUAYD" gc --data-dir "$DATA_DIR" --protection-window 0 --tag-recovery-window 0)

integrity() {
    local out
    out=$(sqlite3 "$DB" 'PRAGMA integrity_check;') || fail "$1: sqlite3 failed: $out"
    [[ $out == ok ]] || fail "$1: PRAGMA integrity_check says: $out"
    out=$(sqlite3 "$DB" 'PRAGMA foreign_key_check;') || fail "$1: sqlite3 failed: $out"
    [[ -z $out ]] || fail "$1: PRAGMA foreign_key_check reports: $(head -5 <<<"$out")"
    log "$1: integrity_check ok, no foreign key violations"
}

# --- 2. kill -9 mid-run, twice ---------------------------------------------------
for phase in manifests blobs; do
    rc=0
    "${HELPER[@]}" kill-gc "$DB" "$phase" -- "${GC[@]}" || rc=$?
    [[ $rc -ne 3 ]] || fail "quayd gc finished before it was seen deleting $phase; raise CRASH_GC_IMAGES"
    [[ $rc -eq 0 ]] || fail "killing quayd gc while it deleted $phase failed (status $rc)"
    integrity "after kill -9 while deleting $phase"
done

# The kill may land after a batch's files are gone; make sure the next run
# also meets exactly what a kill between a batch's row deletes and its file
# deletes leaves: dead blobs whose rows are gone but whose files are not.
orphans=$(sqlite3 "$DB" "DELETE FROM blob WHERE digest IN (SELECT b.digest FROM blob b
    WHERE NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = b.digest)
    AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = b.digest) LIMIT 5)
    RETURNING digest;" | wc -l)
[[ $orphans -eq 5 ]] || fail "expected dead blob rows left after the kill, found $orphans"
log "removed $orphans dead blob rows by hand, leaving their files (a crash mid-batch)"

# --- 3. complete runs ------------------------------------------------------------
report=$("${GC[@]}") || fail "quayd gc after the crashes failed"
log "gc to completion: $report"
integrity "after a complete run"
"${HELPER[@]}" check-store "$DB" "$DATA_DIR"
report=$("${GC[@]}") || fail "a second complete quayd gc failed"
[[ $report == *"manifests_deleted=0 "*"blobs_unlinked=0 blobs_deleted=0 bytes_freed=0 "* ]] ||
    fail "a run after a complete one still found garbage: $report"
remaining=$(sqlite3 "$DB" 'SELECT COUNT(*) FROM manifest;')
expected=$(((IMAGES + KEEP_EVERY - 1) / KEEP_EVERY))
[[ $remaining -eq $expected ]] || fail "$remaining manifests left, expected the $expected tagged ones"

# --- 4. serve again and pull -----------------------------------------------------
quayd_start "$DATA_DIR"
"${HELPER[@]}" verify "$BASE_URL" "$WORK/pushed.json"
n=$(check_blob_files "$DATA_DIR")
log "$n blob files hash to their names"
[[ $n -gt 0 ]] || fail "no blob files left at all"
quayd_stop
integrity "after the final shutdown"
