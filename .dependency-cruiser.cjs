// The layers of the README's "Data flows one way" diagram, as rules that `npm run lint` checks.
// Each folder of src/ may import only the folders listed for it (its own included); a change to
// the design changes the README's diagram and this table in the same commit.
const allowed = {
  errors: [],
  model: ['errors'],
  random: [],
  protocol: ['errors'],
  prune: ['errors', 'protocol'],
  'sweep-file': ['errors', 'protocol', 'prune', 'random'],
  store: ['errors', 'protocol'],
  resources: ['errors', 'sweep-file'],
  // The executor never reads the store: it may use the store's types (failure kinds), no more.
  executor: ['errors', 'sweep-file', 'resources', 'store/types'],
  plan: ['errors', 'protocol', 'sweep-file', 'resources', 'executor', 'store/types'],
  search: ['errors', 'random', 'sweep-file', 'store/types'],
  // The recorder writes through the store's MetricSink role, nothing else of the store.
  metrics: ['errors', 'protocol', 'sweep-file', 'store/types', 'store/interfaces'],
  orchestrator: [
    'errors',
    'protocol',
    'prune',
    'sweep-file',
    'store',
    'resources',
    'executor',
    'plan',
    'search',
    'metrics',
  ],
  // Live displays only observe events.
  progress: ['errors', 'orchestrator/events', 'executor/classify'],
  report: ['errors', 'protocol', 'sweep-file', 'store'],
  serve: ['errors', 'protocol', 'sweep-file', 'store', 'report'],
  clip: ['errors', 'model'],
  // The built-in trainer is a child process: it never opens the database or drives the sweep.
  trainer: ['errors', 'protocol', 'random', 'model', 'clip'],
  cli: null, // wires everything
};

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const target = (entry) =>
  entry.includes('/')
    ? `src/${escapeRe(entry)}\\.ts$`
    : entry === 'errors'
      ? 'src/errors\\.ts$'
      : `src/${escapeRe(entry)}/`;

const layerRules = Object.entries(allowed)
  .filter(([, list]) => list !== null)
  .map(([folder, list]) => ({
    name: `layer-${folder}`,
    comment: `src/${folder} may import only: ${list.length ? list.join(', ') : 'nothing else in src'}`,
    severity: 'error',
    from: { path: folder === 'errors' ? '^src/errors\\.ts$' : `^src/${escapeRe(folder)}/` },
    to: {
      path: '^src/',
      pathNot: [
        folder === 'errors' ? '^src/errors\\.ts$' : `^src/${escapeRe(folder)}/`,
        ...list.map((e) => `^${target(e)}`),
      ],
    },
  }));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'import cycles hide the direction of data flow',
      from: {},
      to: { circular: true },
    },
    {
      name: 'known-folders',
      severity: 'error',
      comment: 'every folder of src/ has a row in the layer table above',
      from: { path: '^src/', pathNot: `^src/(${Object.keys(allowed).map(escapeRe).join('|')})(/|\\.ts$)` },
      to: {},
    },
    {
      name: 'no-cli-imports',
      severity: 'error',
      comment: 'nothing but the CLI itself imports cli/',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'src/ never imports test/ or bench/',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
