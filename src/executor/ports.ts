// Free TCP ports for runs' MASTER_PORT: the OS picks one (bind to port 0); a port handed to a run
// still running is never handed out again, even if the run has not bound it yet.
import { createServer } from 'node:net';

export class PortPool {
  private readonly held = new Set<number>();

  async take(): Promise<number> {
    for (let tries = 0; tries < 20; tries++) {
      const port = await freePort();
      if (!this.held.has(port)) {
        this.held.add(port);
        return port;
      }
    }
    throw new Error('no free TCP port for MASTER_PORT after 20 tries');
  }

  give(port: number): void {
    this.held.delete(port);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
