import cliProgress from 'cli-progress';
import type { SweepEvent } from '../orchestrator/events.js';
import { eta, fmtNumber } from './format.js';
import { describe } from './lines.js';

interface ActiveRun {
  bar: cliProgress.SingleBar;
  startedAt: number;
}

/** One line per active run (name, step/total, latest train loss, ETA) and an overall bar. */
export class TtyProgress {
  private readonly multibar: cliProgress.MultiBar;
  private overall: cliProgress.SingleBar | undefined;
  private readonly active = new Map<string, ActiveRun>();
  private done = 0;
  private failed = 0;

  constructor(out: NodeJS.WriteStream) {
    this.multibar = new cliProgress.MultiBar(
      {
        stream: out,
        clearOnComplete: false,
        hideCursor: true,
        autopadding: true,
        format: ' {label} |{bar}| {value}/{total} {info}',
        barsize: 24,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  onEvent(event: SweepEvent): void {
    switch (event.type) {
      case 'plan':
        this.overall = this.multibar.create(Math.max(event.toRun, 1), 0, {
          label: pad(`sweep ${event.sweep}`),
          info: '',
        });
        this.log(describe(event, new Map()));
        break;
      case 'run-start':
        this.active.set(event.run.id, {
          bar: this.multibar.create(1, 0, { label: pad(event.run.name), info: `starting on ${event.slot}` }),
          startedAt: Date.now(),
        });
        break;
      case 'run-progress': {
        const run = this.active.get(event.run.id);
        if (!run || event.step === null) break;
        const total = event.totalSteps ?? Math.max(event.step, 1);
        run.bar.setTotal(total);
        run.bar.update(event.step, {
          info: `loss ${fmtNumber(event.trainLoss)} ETA ${eta(run.startedAt, event.step, event.totalSteps) || '?'}`,
        });
        break;
      }
      case 'run-end': {
        const run = this.active.get(event.run.id);
        if (run) {
          this.multibar.remove(run.bar);
          this.active.delete(event.run.id);
        }
        if (!event.willRetry) {
          this.done++;
          if (event.status !== 'completed') this.failed++;
          this.overall?.update(this.done, { info: this.failed > 0 ? `${this.failed} not completed` : '' });
        }
        if (event.status !== 'completed') this.log(describe(event, new Map()));
        break;
      }
      default:
        this.log(describe(event, new Map()));
    }
  }

  stop(): void {
    this.multibar.stop();
  }

  private log(line: string | null): void {
    if (line !== null) this.multibar.log(`${line}\n`);
  }
}

function pad(text: string): string {
  return text.length > 28 ? `${text.slice(0, 27)}~` : text.padEnd(28);
}
