// One optimiser step: forward, loss, gradients, clipping, AdamW. Shared by the training loop and
// the benchmark so that the benchmark measures exactly what training runs.
import * as tf from '@tensorflow/tfjs';
import type { ClipModel } from './model/clip.js';
import type { Batch } from './batches.js';
import { contrastiveLoss } from './loss.js';
import { clipGradNorm, type AdamW } from './optim.js';

export class Stepper {
  private readonly vars: tf.Variable[];
  private readonly byName: Map<string, string>;
  /** `trainable` leaves out frozen parameters: they get no gradient, no update and no decay. */
  constructor(
    readonly model: ClipModel,
    readonly opt: AdamW,
    trainable: (name: string) => boolean = () => true,
  ) {
    this.vars = [...model.params].filter(([name]) => trainable(name)).map(([, v]) => v);
    this.byName = new Map([...model.params].map(([name, v]) => [v.name, name]));
  }

  /** Returns the batch loss (before the update). */
  step(batch: Batch, lr: number, dropout: number, dropoutSeed: number, gradClip: number | null): number {
    const fwd = { dropout, dropoutSeed };
    const logScale = this.model.params.get('logit_scale')!;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          contrastiveLoss(this.model.encodeImage(batch.image, fwd), this.model.encodeText(batch.text, fwd), logScale),
        this.vars,
      );
      const named: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) named[this.byName.get(k)!] = g;
      this.opt.step(clipGradNorm(named, gradClip).grads, lr);
      return value.dataSync()[0]!;
    });
  }
}
