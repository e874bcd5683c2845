import { ensureEmbedded } from '/work/w12/dist/src/trainer/data/embedded/generate.js';
import { embeddedVocab } from '/work/w12/dist/src/trainer/data/embedded/captions.js';
import { writeFileSync } from 'node:fs';
writeFileSync('/tmp/v12/vocabf.txt', embeddedVocab().join('\n') + '\n');
console.log(await ensureEmbedded('/tmp/v12/f', 32, { pretrainTrain: 16000, pretrainVal: 400, finetuneTrain: 320, finetuneVal: 160 }));
