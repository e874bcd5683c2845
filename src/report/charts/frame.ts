// The frame every PNG shares: size, and the title and note painted above the chart.
import type { SKRSContext2D } from '@napi-rs/canvas';

export const WIDTH = 1400;
export const HEIGHT = 800;
export const HEADER = 64;

export function header(ctx: SKRSContext2D, title: string, note: string, width: number): void {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, HEIGHT);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 22px DejaVu Sans, sans-serif';
  ctx.fillText(title, 16, 28);
  ctx.font = '14px DejaVu Sans, sans-serif';
  ctx.fillStyle = '#444444';
  ctx.fillText(note.length > 190 ? note.slice(0, 187) + '...' : note, 16, 52);
}
