import { formatMs } from '../executor/classify.js';

export function eta(startedAt: number, step: number | null, total: number | null, now = Date.now()): string {
  if (step === null || total === null || step <= 0 || total <= step) return '';
  const perStep = (now - startedAt) / step;
  return formatMs(perStep * (total - step));
}

export function fmtNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Inf' : '-Inf';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return String(+value.toFixed(4));
}

export function clock(now = new Date()): string {
  return now.toISOString().slice(11, 19);
}
