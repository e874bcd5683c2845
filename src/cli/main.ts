#!/usr/bin/env node
// The CLI only wires parts together: every command is a function taking a typed options object,
// loaded when it is used. Configuration (argv, environment, cwd) is read here and nowhere deeper.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError, EXIT, exitCodeForError } from './exit-codes.js';

const common = (y: Argv) =>
  y
    .option('runs-dir', { type: 'string', describe: 'folder holding runs/<sweep>/<run-id>/ (default ./runs)' })
    .option('db', { type: 'string', describe: 'SQLite database (default <runs-dir>/sweeps.db)' });

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const io = { out: process.stdout, err: process.stderr, cwd: process.cwd() };
  await yargs(argv)
    .scriptName('sweep')
    .usage('$0 <command> [options]')
    .command(
      'run <file>',
      'expand a sweep file into runs and run them (resumable)',
      (y) =>
        common(y)
          .positional('file', { type: 'string', demandOption: true, describe: 'the sweep file (YAML)' })
          .option('dry-run', {
            type: 'boolean',
            default: false,
            describe: 'print the plan, the slot layout and (with --estimate-from) its cost; run nothing',
          })
          .option('estimate-from', {
            type: 'string',
            describe: 'with --dry-run: estimate wall-clock and GPU-hours from this recorded sweep of the same trainer',
          })
          .option('force', { type: 'boolean', default: false, describe: 'allow a plan above 10,000 runs' })
          .option('retry-failed', {
            type: 'boolean',
            default: true,
            describe: 'run failed runs again (--no-retry-failed skips them)',
          })
          .option('retry-infeasible', {
            type: 'boolean',
            default: false,
            describe: 'run again runs that ran out of memory',
          })
          .option('rerun', {
            type: 'boolean',
            default: false,
            describe: 'run every run again from scratch, completed ones too (old folders are archived)',
          })
          .option('quiet', { type: 'boolean', default: false, describe: 'print nothing but warnings and errors' })
          .option('json', { type: 'boolean', default: false, describe: 'print one JSON object per event' })
          .option('executor', {
            choices: ['local', 'slurm'] as const,
            describe: 'where runs execute (overrides resources.executor; default local)',
          })
          .option('poll-ms', { type: 'number', default: 200, hidden: true })
          .option('stale-ms', {
            type: 'number',
            hidden: true,
            describe: 'how long a silent heartbeat means a dead sweep process (tests)',
          })
          .option('heartbeat-ms', {
            type: 'number',
            hidden: true,
            describe: 'how often this sweep process writes its heartbeat, with --stale-ms (tests)',
          }),
      async (args) => {
        const { runCommand } = await import('./commands/run.js');
        exitCode = await runCommand(
          {
            file: args.file,
            dryRun: args['dry-run'],
            estimateFrom: args['estimate-from'],
            force: args.force,
            retryFailed: args['retry-failed'],
            retryInfeasible: args['retry-infeasible'],
            rerun: args.rerun,
            quiet: args.quiet,
            json: args.json,
            runsDir: args['runs-dir'],
            db: args.db,
            pollMs: args['poll-ms'],
            ...(args['stale-ms'] !== undefined ? { staleAfterMs: args['stale-ms'] } : {}),
            ...(args['heartbeat-ms'] !== undefined ? { heartbeatMs: args['heartbeat-ms'] } : {}),
            executor: args.executor,
          },
          io,
        );
      },
    )
    .command(
      'status [sweep]',
      'show a sweep and its runs (default: the latest sweep)',
      (y) => common(y).positional('sweep', { type: 'string' }).option('json', { type: 'boolean', default: false }),
      async (args) => {
        const { statusCommand } = await import('./commands/status.js');
        exitCode = await statusCommand(
          { sweep: args.sweep, json: args.json, runsDir: args['runs-dir'], db: args.db },
          io,
        );
      },
    )
    .command(
      'cancel <sweep>',
      'stop a sweep: its sweep process, and its SLURM jobs (scancel) or local runs (SIGTERM)',
      (y) => common(y).positional('sweep', { type: 'string', demandOption: true }),
      async (args) => {
        const { cancelCommand } = await import('./commands/cancel.js');
        exitCode = await cancelCommand({ sweep: args.sweep, runsDir: args['runs-dir'], db: args.db }, io);
      },
    )
    .command(
      'ls',
      'list the sweeps in the database',
      (y) => common(y).option('json', { type: 'boolean', default: false }),
      async (args) => {
        const { lsCommand } = await import('./commands/status.js');
        exitCode = await lsCommand({ json: args.json, runsDir: args['runs-dir'], db: args.db }, io);
      },
    )
    .command(
      'export <sweep>',
      'write every metric row (run_id, step, key, value) as JSON lines or CSV',
      (y) =>
        common(y)
          .positional('sweep', { type: 'string', demandOption: true })
          .option('format', { choices: ['jsonl', 'csv'] as const, default: 'jsonl' as const })
          .option('out', { type: 'string', describe: 'file to write (default stdout)' }),
      async (args) => {
        const { exportCommand } = await import('./commands/export.js');
        exitCode = await exportCommand(
          { sweep: args.sweep, format: args.format, out: args.out, runsDir: args['runs-dir'], db: args.db },
          io,
        );
      },
    )
    .command(
      'report [sweep]',
      'overfitting, logit-scale and recall comparisons as PNG, HTML, JSON and CSV (default: the latest sweep)',
      (y) =>
        common(y)
          .positional('sweep', { type: 'string' })
          .option('out', { type: 'string', describe: 'output folder (default reports/<sweep>/)' })
          .option('objective', { type: 'string', describe: 'metric to rank by, e.g. val/loss or max:val/i2t_R@1' })
          .option('format', {
            type: 'string',
            default: 'html,png,json,csv',
            describe: 'comma-separated: html, png, json, csv',
          })
          .option('x', {
            type: 'string',
            describe: 'charts per step, epoch or samples (default: epoch when the sweep varies batch_size, else step)',
          }),
      async (args) => {
        const { reportCommand } = await import('./commands/report.js');
        exitCode = await reportCommand(
          {
            sweep: args.sweep,
            db: args.db,
            runsDir: args['runs-dir'],
            out: args.out,
            objective: args.objective,
            format: args.format,
            x: args.x,
          },
          io,
        );
      },
    )
    .command(
      'serve',
      'a live web page on the sweep database (read-only): sweeps, runs, charts, alerts',
      (y) =>
        common(y)
          .option('host', {
            type: 'string',
            default: '127.0.0.1',
            describe: 'address to bind; any other than loopback requires a token',
          })
          .option('port', { type: 'number', default: 0, describe: 'port (0: any free port)' })
          .option('token', {
            type: 'string',
            describe: 'access token (default: generated when --host is not loopback)',
          }),
      async (args) => {
        const { serveCommand } = await import('./commands/serve.js');
        exitCode = await serveCommand(
          { db: args.db, runsDir: args['runs-dir'], host: args.host, port: args.port, token: args.token },
          io,
        );
      },
    )
    .command(
      'pretrain',
      'build the embedded base model that `init: base` fine-tunes (cached under <runs-dir>/models/)',
      (y) =>
        y
          .option('runs-dir', { type: 'string', describe: 'folder holding models/ (default ./runs)' })
          .option('force', { type: 'boolean', default: false, describe: 'rebuild even if cached or shipped' })
          .option('export', {
            type: 'string',
            describe: 'also write the OpenCLIP files (safetensors, config, vocab, metrics) here, e.g. models/base-tiny',
          })
          .option('checkpoint-dir', {
            type: 'string',
            describe: 'keep checkpoints and metrics here while building; a build that finds one resumes from it',
          }),
      async (args) => {
        const { pretrainCommand } = await import('./commands/pretrain.js');
        exitCode = await pretrainCommand(
          {
            runsDir: args['runs-dir'],
            force: args.force,
            exportDir: args.export,
            checkpointDir: args['checkpoint-dir'],
          },
          io,
        );
      },
    )
    .command('clip <command>', 'check real CLIP weights (safetensors) without training: embed, tokenize, eval', (y) => {
      const model = (z: Argv) =>
        z
          .option('weights', {
            type: 'string',
            demandOption: true,
            describe: 'a .safetensors file (OpenCLIP or Hugging Face naming)',
          })
          .option('config', {
            type: 'string',
            describe: 'model config JSON (default: open_clip_config.json or config.json beside the weights)',
          })
          .option('vocab', {
            type: 'string',
            describe:
              'bpe_simple_vocab_16e6.txt.gz, or a folder with vocab.json + merges.txt (default: beside the weights)',
          })
          .option('backend', {
            choices: ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const,
            default: 'auto' as const,
          })
          .option('json', { type: 'boolean', default: false });
      return y
        .command(
          'embed',
          'normalised image and text embeddings, the logit scale and the logits',
          (z) =>
            model(z)
              .option('image', { type: 'string', array: true, default: [] as string[] })
              .option('text', { type: 'string', array: true, default: [] as string[] }),
          async (a) => {
            const { clipEmbedCommand } = await import('./commands/clip.js');
            exitCode = await clipEmbedCommand(
              {
                weights: a.weights,
                config: a.config,
                vocab: a.vocab,
                backend: a.backend,
                images: a.image.map(String),
                texts: a.text.map(String),
                json: a.json,
              },
              io,
            );
          },
        )
        .command(
          'tokenize',
          "CLIP's BPE token ids at a context length",
          (z) =>
            z
              .option('vocab', {
                type: 'string',
                demandOption: true,
                describe: 'bpe_simple_vocab_16e6.txt.gz, or a folder with vocab.json + merges.txt',
              })
              .option('context-length', { type: 'number', default: 77 })
              .option('text', { type: 'string', array: true, demandOption: true })
              .option('json', { type: 'boolean', default: false }),
          async (a) => {
            const { clipTokenizeCommand } = await import('./commands/clip.js');
            exitCode = await clipTokenizeCommand(
              { vocab: a.vocab, contextLength: a['context-length'], texts: a.text.map(String), json: a.json },
              io,
            );
          },
        )
        .command(
          'eval',
          'retrieval R@1/5/10 both ways on the validation split of a COCO-layout folder',
          (z) =>
            model(z)
              .option('dataset', {
                type: 'string',
                demandOption: true,
                describe: 'COCO-layout folder (annotations/captions_val*.json + images)',
              })
              .option('max-images', { type: 'number', describe: 'evaluate on the first N images' })
              .option('batch-size', { type: 'number', default: 32, describe: 'batch size of the validation loss' }),
          async (a) => {
            const { clipEvalCommand } = await import('./commands/clip.js');
            exitCode = await clipEvalCommand(
              {
                weights: a.weights,
                config: a.config,
                vocab: a.vocab,
                backend: a.backend,
                dataset: a.dataset,
                maxImages: a['max-images'],
                batchSize: a['batch-size'],
                json: a.json,
              },
              io,
            );
          },
        )
        .demandCommand(1, 'name a clip command: embed, tokenize, eval');
    })
    .demandCommand(1, 'name a command: run, status, cancel, ls, export, report, serve, pretrain, clip')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .fail((message, error) => {
      if (error) throw error;
      io.err.write(`sweep: ${message}\nRun "sweep --help" for usage.\n`);
      exitCode = EXIT.badInput;
    })
    .parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(describeError(error));
    process.exitCode = exitCodeForError(error);
  },
);
