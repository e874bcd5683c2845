// Runs before `npm test`: the report's browser test needs Debian's Chromium (playwright-core never
// downloads a browser here). Installs it with apt-get when missing and we are root; otherwise
// says exactly what to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(`The HTML report test needs Chromium at ${CHROMIUM}: run "sudo apt-get install -y chromium", then npm test again.`);
    process.exit(1);
  }
  console.log(`Installing Debian's chromium for the HTML report test (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
}
