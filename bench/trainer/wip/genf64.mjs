import { ensureEmbedded } from '/work/w12/dist/src/trainer/data/embedded/generate.js';
console.log(await ensureEmbedded('/tmp/v12/f64', 32, { pretrainTrain: 64000, pretrainVal: 400, finetuneTrain: 320, finetuneVal: 160 }));
