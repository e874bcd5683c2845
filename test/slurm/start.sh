#!/usr/bin/env bash
# Installs (apt, when missing) and starts a single-node SLURM for the tests: munge, slurmctld and
# slurmd with two fake GPUs as GRES (character devices, as slurmd requires). Idempotent: when the
# controller already answers, it only prints the env file. Needs root. Facts: ../../../shared/SLURM.md
#   CLIPSWEEP_SLURM_DIR  where state, logs and pid files live (default /tmp/clipsweep-slurm)
#   CLIPSWEEP_SLURM_MIN_JOB_AGE  seconds the controller remembers a finished job (default 5: short,
#                        so that the tests also resolve jobs through sacct)
# Writes $CLIPSWEEP_SLURM_DIR/env (KEY=VALUE lines) for the tests and prints its path.
set -euo pipefail
DIR="${CLIPSWEEP_SLURM_DIR:-/tmp/clipsweep-slurm}"
MIN_JOB_AGE="${CLIPSWEEP_SLURM_MIN_JOB_AGE:-5}"
CPUS="${CLIPSWEEP_SLURM_CPUS:-32}"

if [ "$(id -u)" != 0 ]; then echo "start.sh: needs root (apt-get, munged, slurmd)" >&2; exit 1; fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" && scontrol ping >/dev/null 2>&1; then
  echo "$DIR/env"; exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
  }
fi

# munge: the daemons and clients authenticate through it.
install -d -o munge -g munge /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# A half-started previous attempt: stop what is left before writing a fresh configuration.
for d in slurmctld slurmd; do alive "$DIR/$d.pid" && kill "$(cat "$DIR/$d.pid")" 2>/dev/null || true; done
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/dev"
for n in 0 1; do [ -c "$DIR/dev/nvidia$n" ] || { rm -f "$DIR/dev/nvidia$n"; mknod "$DIR/dev/nvidia$n" c 195 "$n"; }; done

HOST="$(hostname -s)"
MEM="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)"
mkdir -p /etc/slurm
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
KillWait=5
GresTypes=gpu
SlurmdParameters=config_overrides
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=${MEM:-1000} Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
cat >/etc/slurm/gres.conf <<CONF
AutoDetect=off
NodeName=$HOST Name=gpu File=$DIR/dev/nvidia[0-1]
CONF

slurmctld
slurmd
for _ in $(seq 100); do
  state="$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)"
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 0.1
done
case "$(sinfo -h -n "$HOST" -o %t 2>/dev/null)" in
  idle*|mix*|alloc*) ;;
  *) echo "start.sh: the node did not come up; see $DIR/slurmctld.log and $DIR/slurmd.log" >&2; exit 1 ;;
esac

cat >"$DIR/env" <<ENV
CLIPSWEEP_SLURM_DIR=$DIR
CLIPSWEEP_SLURM_PARTITION=debug
CLIPSWEEP_SLURM_GPUS=2
CLIPSWEEP_SLURM_MIN_JOB_AGE=$MIN_JOB_AGE
ENV
echo "$DIR/env"
