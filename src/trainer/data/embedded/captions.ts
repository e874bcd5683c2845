// COCO-style captions for embedded scenes: five varied phrasings per image from a pool of
// templates and synonyms, with a phrasing shift between the pretraining and fine-tuning domains.
import { DataRng } from '../rng.js';
import { SPECIAL_TOKENS, splitWords } from '../tokenizer.js';
import type { Background, Color, Domain, Frame, Position, Scene, Shape, Size, Style } from './scene.js';

export const CAPTIONS_PER_IMAGE = 5;

const SHAPE_WORDS: Record<Shape, string[]> = {
  circle: ['circle', 'disc', 'round shape'],
  square: ['square', 'box', 'square shape'],
  triangle: ['triangle', 'triangular shape'],
  diamond: ['diamond', 'rhombus', 'diamond shape'],
  star: ['star', 'star shape', 'five pointed star'],
  cross: ['cross', 'plus sign', 'plus shape'],
};
const COLOR_WORDS: Record<Color, string[]> = {
  red: ['red'],
  green: ['green'],
  blue: ['blue'],
  yellow: ['yellow'],
  purple: ['purple', 'violet'],
  orange: ['orange'],
  cyan: ['cyan', 'turquoise'],
  magenta: ['magenta'],
  lime: ['lime'],
  brown: ['brown'],
  pink: ['pink'],
  teal: ['teal'],
};
const SIZE_WORDS: Record<Size, string[]> = {
  small: ['small', 'little', 'tiny'],
  large: ['large', 'big', 'huge'],
};
const POSITION_WORDS: Record<Position, string[]> = {
  left: ['on the left', 'at the left side', 'in the left half', 'to the left'],
  right: ['on the right', 'at the right side', 'in the right half', 'to the right'],
  top: ['at the top', 'near the top', 'in the upper half'],
  bottom: ['at the bottom', 'near the bottom', 'in the lower half'],
  center: ['in the center', 'in the middle', 'at the centre'],
  'top-left': ['in the top left corner', 'at the upper left', 'in the top left'],
  'top-right': ['in the top right corner', 'at the upper right', 'in the top right'],
  'bottom-left': ['in the bottom left corner', 'at the lower left', 'in the bottom left'],
  'bottom-right': ['in the bottom right corner', 'at the lower right', 'in the bottom right'],
};
const BACKGROUND_WORDS: Record<Background, string[]> = {
  white: ['on a white background', 'on white'],
  gray: ['on a gray background', 'on a grey background', 'on gray'],
  black: ['on a black background', 'on a dark background', 'on black'],
  beige: ['on a beige background', 'on beige'],
  lavender: ['on a lavender background', 'on lavender'],
  mint: ['on a mint background', 'on mint'],
  navy: ['on a navy background', 'on navy'],
  maroon: ['on a maroon background', 'on maroon'],
  striped: ['on a striped background', 'over stripes', 'against stripes'],
  checkered: ['on a checkered background', 'on a checkerboard'],
  dotted: ['on a dotted background', 'on a polka dot background'],
};
/** Solid shapes are often not called solid, as people leave out the obvious. */
const STYLE_WORDS: Record<Style, string[]> = {
  solid: ['', '', 'solid', 'filled'],
  outline: ['outlined', 'hollow'],
};
const FRAME_WORDS: Record<Frame, string> = {
  none: '',
  gold: 'in a gold frame',
  silver: 'in a silver frame',
  olive: 'in an olive frame',
  indigo: 'in an indigo frame',
  crimson: 'in a crimson frame',
  coral: 'in a coral frame',
  slate: 'in a slate frame',
};
const SECOND_WORDS = [
  ' next to a {color2} {shape2}',
  ' with a {color2} {shape2} nearby',
  ' and a small {color2} {shape2}',
];

/**
 * Fine-tuning templates name every attribute the domain varies (version 4), in free phrasing with
 * synonyms, so that a model can learn its training pairs by heart, as an overfitting CLIP does with
 * COCO's; with the size or the background left out (version 3) the scale never climbed back after
 * a dip (docs/trainer.md, "The quick start"). Position comes before the background and the second
 * object comes last, so a 16-token context truncates only those two (it keeps the background in
 * about 41% of the training captions, everything else in all of them).
 */
const TEMPLATES: Record<Domain, string[]> = {
  // Pretraining captions name every attribute of the domain (alt-text style; a caption that
  // leaves out what tells two images apart makes retrieval a coin toss, and the base model must
  // reach a real R@1). At most 14 tokens (commas count), so the 16-token context never truncates them.
  // The order of the attributes varies; their words do not (see captionsFor).
  pretrain: [
    'a {size} {color} {shape} {pos} {bg} {frame}',
    '{size} {color} {shape} {pos} {bg} {frame}',
    '{size} {color} {shape} {bg} {pos} {frame}',
    'a {size} {color} {shape} {bg} {pos} {frame}',
    '{pos} a {size} {color} {shape} {bg} {frame}',
    '{pos}, {size} {color} {shape} {bg} {frame}',
    'one {size} {color} {shape} {pos} {bg} {frame}',
    '{bg}, {size} {color} {shape} {pos} {frame}',
  ],
  finetune: [
    'a photo of a {size} {style} {color} {shape} {pos} {bg}',
    'a picture showing a {size} {style} {color} {shape} {pos} {bg}{second}',
    '{size} {style} {color} {shape} {pos}, {bg}',
    'in this picture a {size} {style} {color} {shape} sits {pos} {bg}',
    'the {style} {color} {shape} is {size} and placed {pos} {bg}',
    'a {size} {style} {shape} colored {color}, {pos} {bg}{second}',
    '{size} {color} {style} {shape} {pos} {bg}',
    'close up of a {size} {color} {style} {shape} {pos} {bg}',
  ],
};

function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/ ,/g, ',')
    .replace(/\ba (?=[aeiou])/g, 'an ')
    .trim();
}

/** The first of the fewest words. */
function shortest(words: readonly string[]): string {
  return words.reduce((best, w) => (splitWords(w).length < splitWords(best).length ? w : best));
}

/** The captions of one scene; drawn from a stream of their own, so they do not move the pixels. */
export function captionsFor(scene: Scene, domain: Domain, split: string): string[] {
  const rng = new DataRng(`clipsweep-embedded-captions/${domain}/${split}/${scene.imageId}`);
  const a = scene.attributes;
  // Pretraining captions say each value one way, its shortest (alt text from a template, within the
  // 16-token context with the frame): with synonyms the tiny text tower kept confusing some
  // phrasings, and every such mistake in a batch holds the learned scale down. The synonyms are
  // part of the shift to the fine-tuning domain.
  const pick = (words: readonly string[]): string => (domain === 'pretrain' ? shortest(words) : rng.pick(words));
  return rng
    .shuffle(TEMPLATES[domain])
    .slice(0, CAPTIONS_PER_IMAGE)
    .map((template) => {
      const second = scene.second
        ? rng
            .pick(SECOND_WORDS)
            .replace('{color2}', rng.pick(COLOR_WORDS[scene.second.color]))
            .replace('{shape2}', rng.pick(SHAPE_WORDS[scene.second.shape]))
        : '';
      return tidy(
        template
          .replace('{size}', pick(SIZE_WORDS[a.size]))
          .replace('{color}', pick(COLOR_WORDS[a.color]))
          .replace('{shape}', pick(SHAPE_WORDS[a.shape]))
          .replace('{pos}', pick(POSITION_WORDS[a.position]))
          .replace('{bg}', pick(BACKGROUND_WORDS[a.background]))
          .replace('{style}', pick(STYLE_WORDS[a.style]))
          .replace('{frame}', FRAME_WORDS[a.frame])
          .replace('{second}', second),
      );
    });
}

/**
 * Every word either domain can produce, alphabetically after the special tokens. Derived from the
 * tables, not from drawn captions, so pretraining and fine-tuning share ids and neither sees <unk>.
 */
export function embeddedVocab(): string[] {
  const phrases: string[] = ['an', ...SECOND_WORDS, ...TEMPLATES.pretrain, ...TEMPLATES.finetune];
  phrases.push(...Object.values(FRAME_WORDS));
  for (const table of [SHAPE_WORDS, COLOR_WORDS, SIZE_WORDS, POSITION_WORDS, BACKGROUND_WORDS, STYLE_WORDS]) {
    for (const list of Object.values(table) as string[][]) phrases.push(...list);
  }
  const words = new Set<string>();
  for (const phrase of phrases) {
    for (const word of splitWords(phrase.replace(/\{\w+\}/g, ' '))) words.add(word);
  }
  return [...SPECIAL_TOKENS, ...[...words].sort()];
}
