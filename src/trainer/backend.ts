// Picks the TF.js backend: tfjs-node-gpu, then tfjs-node, then wasm, then the plain CPU backend.
// The native packages are optional and never required: they are imported by a computed name at
// run time, only if installed.
import * as tf from '@tensorflow/tfjs';

export type BackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';

async function tryImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

const loaders: Record<Exclude<BackendChoice, 'auto'>, () => Promise<string | null>> = {
  'node-gpu': async () => ((await tryImport('@tensorflow/tfjs-node-gpu')) ? 'tensorflow' : null),
  node: async () => ((await tryImport('@tensorflow/tfjs-node')) ? 'tensorflow' : null),
  wasm: async () => ((await tryImport('@tensorflow/tfjs-backend-wasm')) ? 'wasm' : null),
  cpu: async () => 'cpu',
};

export interface BackendInfo {
  /** What was asked for and what was loaded ("node-gpu", "node", "wasm", "cpu"). */
  requested: BackendChoice;
  loaded: Exclude<BackendChoice, 'auto'>;
  /** TF.js's own backend name. */
  tfBackend: string;
  tried: string[];
}

/**
 * Loads and activates a backend. One thread per run: the native backends read their thread
 * counts from the environment when they load, so `threads` is set there first if not already.
 */
let current: BackendInfo | null = null;

/** The backend chosen by selectBackend in this process, if any. */
export function currentBackend(): BackendInfo | null {
  return current;
}

export async function selectBackend(choice: BackendChoice, threads = 1): Promise<BackendInfo> {
  const order: Exclude<BackendChoice, 'auto'>[] = choice === 'auto' ? ['node-gpu', 'node', 'wasm', 'cpu'] : [choice];
  if (choice === 'auto' || choice === 'node' || choice === 'node-gpu') {
    process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
    process.env.TF_NUM_INTEROP_THREADS ??= String(threads);
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  }
  // Production mode drops per-op debug checks: about 12 -> 4 us of overhead per kernel on wasm,
  // for some 2,000 kernels per training step.
  tf.enableProdMode();
  const tried: string[] = [];
  for (const name of order) {
    const tfName = await loaders[name]();
    tried.push(name);
    if (tfName && (await tf.setBackend(tfName))) {
      await tf.ready();
      current = { requested: choice, loaded: name, tfBackend: tf.getBackend(), tried };
      return current;
    }
  }
  throw new Error(`backend ${choice}: could not be loaded (tried ${tried.join(', ')})`);
}
