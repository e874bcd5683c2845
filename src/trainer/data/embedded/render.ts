// Rasterises a scene at any size with analytic anti-aliasing: each pixel's coverage is
// clamp(0.5 - d) for d the signed distance (in pixels) from its centre to the shape's edge, which is
// exact for straight edges and keeps 16-px images legible without supersampling.
import type { Background, Color, Frame, Position, Scene, Shape, Size } from './scene.js';

type Vec = [number, number];
type Rgb = [number, number, number];

const RGB: Record<Color, Rgb> = {
  red: [215, 45, 45],
  green: [45, 165, 70],
  blue: [50, 90, 215],
  yellow: [235, 205, 45],
  purple: [140, 70, 185],
  orange: [240, 135, 35],
  cyan: [45, 195, 205],
  magenta: [215, 50, 160],
  lime: [160, 215, 40],
  brown: [135, 80, 35],
  pink: [245, 150, 190],
  teal: [25, 125, 125],
};
const CENTRE: Record<Position, Vec> = {
  left: [0.27, 0.5],
  right: [0.73, 0.5],
  top: [0.5, 0.27],
  bottom: [0.5, 0.73],
  center: [0.5, 0.5],
  'top-left': [0.27, 0.27],
  'top-right': [0.73, 0.27],
  'bottom-left': [0.27, 0.73],
  'bottom-right': [0.73, 0.73],
};
/** Radius as a fraction of the image side. */
const RADIUS: Record<Size, number> = { small: 0.13, large: 0.24 };
const SECOND_RADIUS = 0.1;
const PLAIN: Partial<Record<Background, Rgb>> = {
  white: [235, 235, 235],
  gray: [128, 128, 128],
  black: [28, 28, 28],
  beige: [220, 205, 165],
  lavender: [200, 190, 235],
  mint: [185, 230, 200],
  navy: [25, 35, 90],
  maroon: [90, 25, 35],
};
const FRAME_RGB: Record<Exclude<Frame, 'none'>, Rgb> = {
  gold: [212, 175, 55],
  silver: [180, 180, 195],
  olive: [110, 120, 30],
  indigo: [75, 20, 140],
  crimson: [165, 20, 55],
  coral: [250, 128, 95],
  slate: [75, 95, 115],
};
/** The frame's width as a fraction of the image side. */
const FRAME_WIDTH = 0.08;
const TEXTURE_BASE: Rgb = [222, 214, 196];
const TEXTURE_INK: Rgb = [168, 160, 150];

/** Polygon vertices (unit radius, pointing up) for the shapes that are polygons. */
function unitPolygon(shape: Exclude<Shape, 'circle'>): Vec[] {
  const ring = (n: number, radius: (i: number) => number, start = -Math.PI / 2): Vec[] =>
    Array.from({ length: n }, (_, i) => {
      const t = start + (2 * Math.PI * i) / n;
      return [radius(i) * Math.cos(t), radius(i) * Math.sin(t)];
    });
  switch (shape) {
    case 'square':
      return [
        [-0.85, -0.85],
        [0.85, -0.85],
        [0.85, 0.85],
        [-0.85, 0.85],
      ];
    case 'triangle':
      return ring(3, () => 1.15);
    case 'diamond':
      return [
        [0, -1.05],
        [0.75, 0],
        [0, 1.05],
        [-0.75, 0],
      ];
    case 'star':
      return ring(10, (i) => (i % 2 === 0 ? 1.15 : 0.5));
    case 'cross': {
      const w = 0.36;
      return [
        [-w, -1],
        [w, -1],
        [w, -w],
        [1, -w],
        [1, w],
        [w, w],
        [w, 1],
        [-w, 1],
        [-w, w],
        [-1, w],
        [-1, -w],
        [-w, -w],
      ];
    }
  }
}

/** Signed distance to a closed polygon (negative inside), after Inigo Quilez's sdPolygon. */
function polygonDistance(px: number, py: number, v: Vec[]): number {
  const first = v[0] as Vec;
  let d = (px - first[0]) ** 2 + (py - first[1]) ** 2;
  let sign = 1;
  for (let i = 0, j = v.length - 1; i < v.length; j = i, i++) {
    const [ax, ay] = v[i] as Vec;
    const [bx, by] = v[j] as Vec;
    const ex = bx - ax;
    const ey = by - ay;
    const wx = px - ax;
    const wy = py - ay;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    d = Math.min(d, (wx - ex * t) ** 2 + (wy - ey * t) ** 2);
    const c1 = py >= ay;
    const c2 = py < by;
    const c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) sign = -sign;
  }
  return sign * Math.sqrt(d);
}

interface Sprite {
  cx: number;
  cy: number;
  r: number;
  colour: Rgb;
  outline: number; // ring width in pixels, 0 for a solid shape
  distance: (x: number, y: number) => number;
}

function sprite(
  shape: Shape,
  cx: number,
  cy: number,
  r: number,
  rotation: number,
  colour: Rgb,
  outline: boolean,
): Sprite {
  let distance: (x: number, y: number) => number;
  if (shape === 'circle') {
    distance = (x, y) => Math.hypot(x - cx, y - cy) - r;
  } else {
    const cos = Math.cos(rotation);
    const sin = Math.sin(rotation);
    const v = unitPolygon(shape).map(([x, y]): Vec => [cx + r * (x * cos - y * sin), cy + r * (x * sin + y * cos)]);
    distance = (x, y) => polygonDistance(x, y, v);
  }
  return { cx, cy, r, colour, outline: outline ? Math.max(1.2, 0.3 * r) : 0, distance };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function fractional(x: number): number {
  return x - Math.floor(x);
}

/** Coverage in [0, 1] of a square wave of the given period (pixels) at coordinate u, anti-aliased. */
function bands(u: number, period: number): number {
  return clamp01(0.5 - (Math.abs(fractional(u / period) - 0.5) - 0.25) * period);
}

function background(scene: Scene, size: number, out: Float32Array): void {
  const { background: kind } = scene.attributes;
  const { bgShade, patternPhase } = scene.jitter;
  const plain = PLAIN[kind];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const o = (y * size + x) * 3;
      if (plain !== undefined) {
        for (let c = 0; c < 3; c++) out[o + c] = (plain[c] as number) + bgShade;
        continue;
      }
      let ink: number;
      if (kind === 'striped') {
        const period = size / 5;
        ink = bands((px + py) / Math.SQRT2 + patternPhase * period, period / Math.SQRT2);
      } else if (kind === 'checkered') {
        const period = size / 2.5;
        const a = bands(px + patternPhase * period, period);
        const b = bands(py, period);
        ink = a + b - 2 * a * b;
      } else {
        const spacing = size / 5;
        const gx = fractional(px / spacing + patternPhase) - 0.5;
        const gy = fractional(py / spacing) - 0.5;
        ink = clamp01(0.5 - (Math.hypot(gx, gy) * spacing - spacing * 0.2));
      }
      for (let c = 0; c < 3; c++) {
        out[o + c] =
          (TEXTURE_BASE[c] as number) + bgShade + ink * ((TEXTURE_INK[c] as number) - (TEXTURE_BASE[c] as number));
      }
    }
  }
}

/** A band around the picture, anti-aliased on its inner edge. */
function frame(kind: Frame, size: number, out: Float32Array): void {
  if (kind === 'none') return;
  const colour = FRAME_RGB[kind];
  const width = FRAME_WIDTH * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const edge = Math.min(x + 0.5, y + 0.5, size - x - 0.5, size - y - 0.5);
      const alpha = clamp01(width - edge + 0.5);
      if (alpha === 0) continue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = (out[o + c] as number) * (1 - alpha) + (colour[c] as number) * alpha;
    }
  }
}

function paint(s: Sprite, size: number, out: Float32Array): void {
  const reach = s.r * 1.2 + 2; // every shape fits within 1.15 r of its centre
  const x0 = Math.max(0, Math.floor(s.cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(s.cx + reach));
  const y0 = Math.max(0, Math.floor(s.cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(s.cy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let d = s.distance(x + 0.5, y + 0.5);
      if (s.outline > 0) d = Math.abs(d + s.outline / 2) - s.outline / 2; // a ring inside the edge
      const alpha = clamp01(0.5 - d);
      if (alpha === 0) continue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = (out[o + c] as number) * (1 - alpha) + (s.colour[c] as number) * alpha;
    }
  }
}

/** The scene as 8-bit RGB, row-major, size x size x 3. */
export function renderScene(scene: Scene, size: number): Uint8Array {
  const canvas = new Float32Array(size * size * 3);
  background(scene, size, canvas);
  const a = scene.attributes;
  frame(a.frame, size, canvas);
  const j = scene.jitter;
  const [ux, uy] = CENTRE[a.position];
  const colour = RGB[a.color].map((v, c) => v + (j.rgb[c] as number)) as Rgb;
  const main = sprite(
    a.shape,
    (ux + j.dx) * size,
    (uy + j.dy) * size,
    RADIUS[a.size] * j.scale * size,
    j.rotation,
    colour,
    a.style === 'outline',
  );
  if (scene.second) {
    // Opposite the main object, so the two never overlap.
    const s = sprite(
      scene.second.shape,
      (1 - ux) * size,
      (1 - uy) * size,
      SECOND_RADIUS * size,
      0,
      RGB[scene.second.color],
      false,
    );
    paint(s, size, canvas);
  }
  paint(main, size, canvas);
  const pixels = new Uint8Array(canvas.length);
  for (let i = 0; i < canvas.length; i++) pixels[i] = Math.round(Math.min(255, Math.max(0, canvas[i] as number)));
  return pixels;
}
