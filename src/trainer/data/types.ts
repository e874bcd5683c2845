// The contract between the data sets (src/trainer/data/) and the built-in trainer (src/trainer/).
// Everything is plain typed arrays so that the trainer can hand batches to TF.js without copies
// of JS objects, and so that the data code never imports TF.js.
import type { Tokenizer } from '../../model/tokenizer.js';

/** One split of image-caption pairs, decoded and resized, ready to batch. */
export interface ImageCaptionSplit {
  /** Square images, NHWC, float32 in [0, 1] (or normalised when requested); length = count * imageSize * imageSize * 3. */
  images: Float32Array;
  imageSize: number;
  /** Number of images. */
  count: number;
  /** Tokenised captions, row-major [captionCount, contextLength], padded with 0. */
  tokens: Int32Array;
  contextLength: number;
  /** For each caption, the index of its image in `images` (several captions per image). */
  captionImage: Int32Array;
  /** Raw caption text, same order as the token rows (for logs and reports). */
  captions: string[];
  /** A stable identifier per image (COCO image id or the generator's id), for checks. */
  imageIds: number[];
}

/** What the trainer asks for. */
export interface DatasetRequest {
  /**
   * "embedded" (the fine-tuning split of the built-in data set), "embedded-pretrain" (its
   * pretraining split), or a path to a COCO-layout folder (annotations/captions_*.json and image
   * folders).
   */
  dataset: string;
  imageSize: number;
  contextLength: number;
  /** A tokenizer vocabulary to reuse (from an init checkpoint); built from the data otherwise. */
  vocab?: readonly string[];
  /** A ready tokenizer (CLIP's BPE for real CLIP weights); wins over `vocab`. */
  tokenizer?: Tokenizer;
  /** Per-channel normalisation of the [0, 1] pixels (CLIP's mean and std). */
  normalize?: { mean: readonly number[]; std: readonly number[] };
  /** Where generated or cached files may be written (the embedded set is generated here once). */
  cacheDir: string;
  /** Optional caps (tests and quick runs). */
  maxTrainImages?: number;
  maxValImages?: number;
  /**
   * Images per split of the embedded set (defaults: pretrainTrain 4000, pretrainVal 400,
   * finetuneTrain 320, finetuneVal 160). Each combination is generated once into its own folder.
   */
  embeddedSizes?: {
    pretrainTrain?: number;
    pretrainVal?: number;
    finetuneTrain?: number;
    finetuneVal?: number;
  };
}

export interface DatasetBundle {
  train: ImageCaptionSplit;
  val: ImageCaptionSplit;
  /** The pretraining domain's validation split, for `retain/...` metrics; absent for plain COCO. */
  retainVal?: ImageCaptionSplit;
  tokenizer: Tokenizer;
  /** Images that could not be read (path and reason); reported, never fatal. */
  problems: { path: string; reason: string }[];
  description: string;
}
