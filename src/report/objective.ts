// Which metric ranks the configurations, and whether it may: a metric that depends on the
// training batch size (OpenCLIP's clip_val_loss, computed in training-size batches) cannot
// compare runs of different batch sizes, so it never ranks a batch-size grid.
import { UsageError } from '../errors.js';
import { DEFAULT_OBJECTIVES, parseObjective, type Objective } from './options.js';

export interface ObjectiveChoice extends Objective {
  /** False when the sweep must not be ranked by this metric. */
  ranked: boolean;
  batch_dependent: boolean;
  /** Why the objective is what it is, shown on the page. */
  note: string | null;
}

export const BATCH_PARAM = 'batch_size';

export function chooseObjective(
  requested: string | undefined,
  recordedKeys: ReadonlySet<string>,
  batchDependent: ReadonlySet<string>,
  batchSizes: ReadonlySet<string>,
): ObjectiveChoice {
  const batchVaries = batchSizes.size > 1;
  const unsafe = (key: string) => batchVaries && batchDependent.has(key);
  if (requested !== undefined) {
    const objective = parseObjective(requested);
    if (recordedKeys.size > 0 && !recordedKeys.has(objective.key)) {
      throw new UsageError(
        `--objective: no run of this sweep recorded "${objective.key}"; recorded: ${[...recordedKeys].sort().join(', ')}`,
      );
    }
    if (unsafe(objective.key)) {
      return {
        ...objective,
        ranked: false,
        batch_dependent: true,
        note: `${objective.key} depends on the training batch size and this sweep varies ${BATCH_PARAM}, so configurations are not ranked by it; pick another objective (--objective).`,
      };
    }
    return { ...objective, ranked: true, batch_dependent: batchDependent.has(objective.key), note: null };
  }
  const candidates = DEFAULT_OBJECTIVES.filter((k) => recordedKeys.has(k));
  const safe = candidates.find((k) => !unsafe(k));
  if (safe !== undefined) {
    const skipped = candidates.filter(
      (k) => unsafe(k) && DEFAULT_OBJECTIVES.indexOf(k) < DEFAULT_OBJECTIVES.indexOf(safe),
    );
    return {
      ...parseObjective(safe),
      ranked: true,
      batch_dependent: batchDependent.has(safe),
      note:
        skipped.length > 0
          ? `${skipped.join(', ')} depends on the training batch size and this sweep varies ${BATCH_PARAM}, so it does not rank the configurations; ranked by ${safe} instead.`
          : null,
    };
  }
  const fallback = candidates[0] ?? DEFAULT_OBJECTIVES[0]!;
  return {
    ...parseObjective(fallback),
    ranked: false,
    batch_dependent: batchDependent.has(fallback),
    note:
      candidates.length === 0
        ? 'No run recorded a metric that can rank the configurations yet.'
        : `${fallback} depends on the training batch size and this sweep varies ${BATCH_PARAM}; no batch-independent metric was recorded, so configurations are not ranked.`,
  };
}

/** Metric keys a run declares batch-dependent, in its `started` event's `info` or an `info` event. */
export function batchDependentKeys(events: readonly { kind: string; payload: Record<string, unknown> }[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const info =
      e.kind === 'started'
        ? (e.payload['info'] as Record<string, unknown> | undefined)
        : e.kind === 'info'
          ? e.payload
          : undefined;
    const candidates = [info?.['batch_dependent_metrics'], e.payload['batch_dependent_metrics']];
    for (const list of candidates)
      if (Array.isArray(list)) out.push(...list.filter((k): k is string => typeof k === 'string'));
  }
  return out;
}
