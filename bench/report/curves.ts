// The synthetic CLIP fine-tuning curves the report and serve benchmarks write: six metrics per
// step, with an overfitting onset that comes earlier for larger learning rates and a logit
// scale that dips below the clamp by `dip` (a fraction of 60) and climbs back.
import type { MetricRow } from '../../src/store/types.js';

export function curveRows(step: number, steps: number, p: { lr: number; seed: number }, dip: number): MetricRow[] {
  const t = step / steps;
  const noise = Math.sin(step * 12.9898 + p.seed) * 0.05;
  return [
    { key: 'train/loss', step, value: 3 * Math.exp(-2 * t) + noise, time: step },
    { key: 'val/loss', step, value: 1.5 - t + 1.2 * Math.max(0, t - 0.4 - p.lr * 1e4) ** 2, time: step },
    { key: 'train_eval/loss', step, value: 3 * Math.exp(-2 * t), time: step },
    {
      key: 'logit_scale',
      step,
      value: Math.min(100, 100 - 60 * dip * Math.sin(Math.PI * Math.min(1, t * 2))),
      time: step,
    },
    { key: 'lr', step, value: p.lr * Math.min(1, (step + 1) / 2000) * 0.5 * (1 + Math.cos(Math.PI * t)), time: step },
    { key: 'val/i2t_R@1', step, value: 0.2 + 0.3 * t, time: step },
  ];
}
