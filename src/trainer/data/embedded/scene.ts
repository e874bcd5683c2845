// What an embedded image shows, and how scenes are drawn at random in families of hard negatives.
import { DataRng } from '../rng.js';

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'star', 'cross'] as const;
export const COLORS = [
  'red',
  'green',
  'blue',
  'yellow',
  'purple',
  'orange',
  'cyan',
  'magenta',
  'lime',
  'brown',
  'pink',
  'teal',
] as const;
export const SIZES = ['small', 'large'] as const;
/** Pretraining uses all nine; fine-tuning all but the centre. */
export const POSITIONS = [
  'left',
  'right',
  'top',
  'bottom',
  'center',
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
] as const;
export const BACKGROUNDS = [
  'white',
  'gray',
  'black',
  'beige',
  'lavender',
  'mint',
  'navy',
  'maroon',
  'striped',
  'checkered',
  'dotted',
] as const;
export const STYLES = ['solid', 'outline'] as const;
/** A band of colour around the picture (pretraining only); its names are no object's or background's. */
export const FRAMES = ['none', 'gold', 'silver', 'olive', 'indigo', 'crimson', 'coral', 'slate'] as const;

export type Shape = (typeof SHAPES)[number];
export type Color = (typeof COLORS)[number];
export type Size = (typeof SIZES)[number];
export type Position = (typeof POSITIONS)[number];
export type Background = (typeof BACKGROUNDS)[number];
export type Style = (typeof STYLES)[number];
export type Frame = (typeof FRAMES)[number];
export type Domain = 'pretrain' | 'finetune';

/** The attributes a caption talks about; two images of one family differ in exactly one. */
export interface Attributes {
  shape: Shape;
  color: Color;
  size: Size;
  position: Position;
  background: Background;
  style: Style;
  frame: Frame;
}

/** A small second object (fine-tuning domain only), placed opposite the main one. */
export interface SecondObject {
  shape: Shape;
  color: Color;
}

/** Continuous nuisance parameters: jitter, so that no two images are identical. */
export interface Jitter {
  dx: number; // offsets as fractions of the image side
  dy: number;
  scale: number; // multiplies the nominal radius
  rotation: number; // radians
  rgb: [number, number, number]; // added to the colour, 0..255 units
  bgShade: number; // added to the background's grey level
  patternPhase: number; // shifts the background texture, 0..1
}

export interface Scene {
  imageId: number;
  family: number;
  /** Which attribute this image changes relative to its family's first image (null for the first). */
  changed: keyof Attributes | null;
  attributes: Attributes;
  second: SecondObject | null;
  jitter: Jitter;
}

interface DomainSpec {
  shapes: readonly Shape[];
  colors: readonly Color[];
  positions: readonly Position[];
  backgrounds: readonly Background[];
  styles: readonly Style[];
  frames: readonly Frame[];
  secondObjectRate: number;
}

/**
 * The shift between domains: other shapes, textured backgrounds, outlines, a second object (and,
 * in captions.ts, free phrasing). The pretraining domain is one circle per image on a plain
 * background in a coloured frame or none: 13,824 combinations, so that two images of a random
 * batch of 64 rarely share every attribute (such pairs, and shapes the tiny image tower cannot
 * tell apart, held the base model's learned scale below the clamp: docs/trainer.md).
 */
export const DOMAINS: Record<Domain, DomainSpec> = {
  pretrain: {
    shapes: ['circle'],
    colors: COLORS,
    positions: POSITIONS,
    backgrounds: ['white', 'gray', 'black', 'beige', 'lavender', 'mint', 'navy', 'maroon'],
    styles: ['solid'],
    frames: FRAMES,
    secondObjectRate: 0,
  },
  finetune: {
    shapes: SHAPES,
    colors: ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'cyan'],
    positions: ['left', 'right', 'top', 'bottom', 'top-left', 'top-right', 'bottom-left', 'bottom-right'],
    backgrounds: ['striped', 'checkered', 'dotted'],
    styles: ['solid', 'outline'],
    frames: ['none'],
    secondObjectRate: 0.5,
  },
};

/** Images per family: a base scene and variants that each change one attribute of it. */
export const FAMILY_SIZE = 4;

function choices(spec: DomainSpec): { [K in keyof Attributes]: readonly Attributes[K][] } {
  return {
    shape: spec.shapes,
    color: spec.colors,
    size: SIZES,
    position: spec.positions,
    background: spec.backgrounds,
    style: spec.styles,
    frame: spec.frames,
  };
}

function drawJitter(rng: DataRng): Jitter {
  const c = () => Math.round(rng.range(-18, 18));
  return {
    dx: rng.range(-0.05, 0.05),
    dy: rng.range(-0.05, 0.05),
    scale: rng.range(0.88, 1.12),
    rotation: rng.range(-0.3, 0.3),
    rgb: [c(), c(), c()],
    bgShade: rng.range(-14, 14),
    patternPhase: rng.next(),
  };
}

/**
 * The scenes of one split. Scene i belongs to family floor(i / FAMILY_SIZE); each family is drawn
 * from its own seed, so a split's first images do not change when its size does.
 */
export function drawScenes(domain: Domain, split: string, count: number, firstId: number): Scene[] {
  const spec = DOMAINS[domain];
  const options = choices(spec);
  const variable = (Object.keys(options) as (keyof Attributes)[]).filter((k) => options[k].length > 1);
  const scenes: Scene[] = [];
  for (let family = 0; scenes.length < count; family++) {
    const rng = new DataRng(`clipsweep-embedded/${domain}/${split}/${family}`);
    const base: Attributes = {
      shape: rng.pick(options.shape),
      color: rng.pick(options.color),
      size: rng.pick(options.size),
      position: rng.pick(options.position),
      background: rng.pick(options.background),
      style: rng.pick(options.style),
      // Drawn only where it varies, so that the fine-tuning domain's draws stay as they were.
      frame: options.frame.length > 1 ? rng.pick(options.frame) : (options.frame[0] as Frame),
    };
    const changed = rng.shuffle(variable).slice(0, FAMILY_SIZE - 1);
    const members: [keyof Attributes | null, Attributes][] = [[null, base]];
    for (const key of changed) {
      const others = options[key].filter((v) => v !== base[key]);
      members.push([key, { ...base, [key]: rng.pick(others) }]);
    }
    // The second object belongs to the family, so that members still differ in one attribute only.
    const second =
      rng.next() < spec.secondObjectRate ? { shape: rng.pick(spec.shapes), color: rng.pick(spec.colors) } : null;
    for (const [key, attributes] of members) {
      if (scenes.length >= count) break;
      scenes.push({
        imageId: firstId + scenes.length,
        family,
        changed: key,
        attributes,
        second,
        jitter: drawJitter(rng),
      });
    }
  }
  return scenes;
}
