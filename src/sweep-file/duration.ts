const UNIT_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** Parses "2h", "1h30m", "90s", "500ms" or a number of seconds into milliseconds; null if invalid. */
export function parseDuration(value: number | string): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value * 1000 : null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_SECONDS[match[2]!] ?? 0) * 1000;
    consumed = part.lastIndex;
  }
  return consumed === text.length && total > 0 ? total : null;
}
