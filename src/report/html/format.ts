import { formatValue } from '../charts/scale.js';
import { escapeHtml } from './escape.js';

/** A number for a table cell, escaped; null and undefined are an em dash. */
export function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : escapeHtml(formatValue(v));
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function params(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join(' ');
}
