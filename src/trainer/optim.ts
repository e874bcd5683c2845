// AdamW as torch.optim.AdamW computes it (decoupled decay p *= 1 - lr*wd before the Adam step),
// betas (0.9, 0.98), eps 1e-6 as OpenCLIP uses for ViT models; global grad-norm clipping; and
// the logit-scale clamp to [0, ln(100)] after every step.
import * as tf from '@tensorflow/tfjs';
import { decays, type ParamMap } from './model/clip.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const openClipAdamW = (weightDecay: number): AdamWConfig => ({
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-6,
  weightDecay,
});

export const MAX_LOG_SCALE = Math.log(100);

export class AdamW {
  /** Number of steps taken (torch's per-parameter `step`, the same for all here). */
  t = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  /** Frozen parameters (`trainable` false) get no moments: they are never updated. */
  constructor(
    readonly params: ParamMap,
    readonly config: AdamWConfig,
    trainable: (name: string) => boolean = () => true,
  ) {
    for (const [name, p] of params) {
      if (!trainable(name)) continue;
      const zeros = tf.zerosLike(p);
      this.m.set(name, tf.variable(zeros, false));
      this.v.set(name, tf.variable(zeros, false));
      zeros.dispose();
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }

  /**
   * One update, a parameter at a time, each gradient disposed once used: for ViT-B/32 (151M
   * parameters) a single tidy over all of them held every temporary at once, which does not fit
   * the wasm backend's 4 GB heap.
   */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (const [name, p] of this.params) {
      const g = grads[name];
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (!g || !m || !v) continue;
      // Short tidies, each freeing its temporaries before the next: a whole-update tidy held about
      // ten temporaries of the largest tensor at once (1 GB for ViT-B/32's token embedding).
      set(
        m,
        tf.tidy(() => tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))),
      );
      set(
        v,
        tf.tidy(() => tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2))),
      );
      const denom = tf.tidy(() => tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps));
      const update = tf.tidy(() => tf.mul(tf.div(m, denom), lr / bc1));
      denom.dispose();
      const decayed = weightDecay > 0 && decays(name, p.shape) ? tf.mul(p, 1 - lr * weightDecay) : null;
      const stepped = tf.sub(decayed ?? p, update);
      tf.dispose([update, ...(decayed ? [decayed] : [])]);
      if (name === 'logit_scale') {
        set(p, tf.clipByValue(stepped, 0, MAX_LOG_SCALE));
        stepped.dispose();
      } else {
        set(p, stepped);
      }
      g.dispose();
    }
  }
}

/** Points a variable at new values and drops the handle, so the old values are freed at once. */
function set(variable: tf.Variable, value: tf.Tensor): void {
  variable.assign(value);
  value.dispose();
}

/** Scales grads so that their global L2 norm is at most maxNorm (torch clip_grad_norm_). Returns the norm before clipping. */
export function clipGradNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number | null,
): { grads: Record<string, tf.Tensor>; norm: number } {
  // The norm costs a device sync, so it is only computed when clipping is on.
  if (maxNorm === null) return { grads, norm: NaN };
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  if (!(norm > maxNorm)) return { grads, norm };
  const coef = maxNorm / (norm + 1e-6);
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) {
    out[k] = tf.mul(g, coef);
    g.dispose();
  }
  return { grads: out, norm };
}
