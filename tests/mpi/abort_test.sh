#!/bin/sh
# A rank that throws ends the whole job within seconds, non-zero, its reason on stderr.
#
#   sh abort_test.sh MPIEXEC ARGS... PROGRAM
#
# Runs the command under `timeout`: a job still running after 15 s is a hang, and fails.
set -u
start=$(date +%s%N)
out=$(timeout -k 5 15 "$@" 2>&1)
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
printf '%s\n' "$out"
echo "exit $status after $ms ms"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "FAIL: the job still ran after 15 s: the other rank was left waiting"
  exit 1
fi
if [ "$status" -eq 0 ]; then
  echo "FAIL: the job exited 0 although rank 1 failed"
  exit 1
fi
case "$out" in
  *"mpi_abort_check: rank 1 of 2: a deliberate failure on rank 1"*) ;;
  *)
    echo "FAIL: the failing rank's reason was not printed"
    exit 1
    ;;
esac
echo "PASS"
