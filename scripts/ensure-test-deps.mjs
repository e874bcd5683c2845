// Runs before `npm test`. Two tests need Debian packages that npm cannot provide: the HTML
// report test needs Chromium (playwright-core never downloads a browser here), and the PyTorch
// example test needs python3-torch for /usr/bin/python3. Installs what is missing with apt-get
// when we are root; otherwise says exactly what to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const missing = [];
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
const torch = existsSync('/usr/bin/python3') ? spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0 : false;
if (!torch) missing.push('python3-torch');

if (missing.length > 0) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(`The tests need Debian packages: run "sudo apt-get install -y ${missing.join(' ')}", then npm test again.`);
    process.exit(1);
  }
  console.log(`Installing Debian packages the tests need: ${missing.join(', ')} (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}
