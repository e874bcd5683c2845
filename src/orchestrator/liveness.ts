// Whether the orchestrator holding a run is still alive: on this host its pid must exist and its
// heartbeat be fresh (pids get recycled); elsewhere only the heartbeat can tell.
import { isAlive } from '../executor/process-group.js';
import type { OrchestratorStore } from '../store/interfaces.js';

export function ownerLiveness(
  store: Pick<OrchestratorStore, 'getOrchestrator'>,
  options: { self: string; host: string; staleAfterMs: number },
): (owner: string | null) => boolean {
  return (owner) => {
    if (owner === null) return false;
    if (owner === options.self) return true;
    const record = store.getOrchestrator(owner);
    if (!record || record.endedAt !== null) return false;
    const fresh = Date.now() / 1000 - record.heartbeatAt < options.staleAfterMs / 1000;
    return record.host === options.host ? fresh && isAlive(record.pid) : fresh;
  };
}

/**
 * This process's own side of the heartbeat. A process that was paused (SIGSTOP, a suspended
 * laptop) for longer than `staleAfterMs` may have been taken for dead: another sweep process may
 * then have stopped its children and taken its runs. From then on it must not start anything, and
 * it must not report the runs it lost.
 */
export class SelfLiveness {
  private lastBeat = Date.now();
  private readonly staleAfterMs: number;

  constructor(staleAfterMs: number) {
    this.staleAfterMs = staleAfterMs;
  }

  /** Records a heartbeat written now. */
  beat(): void {
    this.lastBeat = Date.now();
  }

  /** How long since the last heartbeat this process wrote, in ms. */
  silentFor(): number {
    return Date.now() - this.lastBeat;
  }

  /** False once the heartbeat has been silent long enough for another process to take over. */
  mayStart(): boolean {
    return this.silentFor() < this.staleAfterMs;
  }
}
