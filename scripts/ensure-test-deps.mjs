// Runs before `npm test`. Some tests need Debian packages that npm cannot provide: the HTML
// report test needs Chromium (playwright-core never downloads a browser here), and the PyTorch
// example and the real-CLIP reference tests need Python modules for /usr/bin/python3. Installs what is missing with apt-get
// when we are root; otherwise says exactly what to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const missing = [];
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
// /usr/bin/python3 (Debian's, not a pyenv or venv one): torch for the PyTorch example and the CLIP
// reference model, regex for the reference tokenizer, PIL for the reference preprocessing.
const pyHas = (mod) =>
  existsSync('/usr/bin/python3') &&
  spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
for (const [mod, pkg] of [
  ['torch', 'python3-torch'],
  ['regex', 'python3-regex'],
  ['PIL', 'python3-pil'],
])
  if (!pyHas(mod)) missing.push(pkg);

if (missing.length > 0) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `The tests need Debian packages: run "sudo apt-get install -y ${missing.join(' ')}", then npm test again.`,
    );
    process.exit(1);
  }
  console.log(`Installing Debian packages the tests need: ${missing.join(', ')} (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync(
    'apt-get',
    ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', ...missing],
    { stdio: 'inherit', env },
  );
}
