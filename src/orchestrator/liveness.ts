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
