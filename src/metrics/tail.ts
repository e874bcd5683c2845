// Reads the complete lines appended to a file since the last read, with their byte offsets.
// Polling with positional reads (not fs.watch): it works the same on every filesystem,
// network filesystems included, and costs one read call per run per poll.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface TailLine {
  /** Byte offset of the line's first byte. */
  offset: number;
  text: string;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

export class FileTail {
  readonly path: string;
  private position: number;

  constructor(path: string, offset: number) {
    this.path = path;
    this.position = offset;
  }

  /** The offset after the last line returned. */
  get offset(): number {
    return this.position;
  }

  /**
   * Complete lines written since the last call, at most about `maxBytes` of them. With `final`,
   * a last line without its newline is returned too (the writer has exited).
   */
  read(options: { final?: boolean; maxBytes?: number } = {}): TailLine[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      // A file shorter than what was read was replaced or truncated; start it again.
      if (size < this.position) this.position = 0;
      const lines: TailLine[] = [];
      const limit = options.maxBytes ?? 64 * CHUNK;
      let pending = Buffer.alloc(0);
      let pendingStart = this.position;
      let readAt = this.position;
      while (readAt < size && readAt - this.position < limit) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - readAt));
        const n = readSync(fd, chunk, 0, chunk.length, readAt);
        if (n <= 0) break;
        readAt += n;
        const data = pending.length > 0 ? Buffer.concat([pending, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, start)) {
          lines.push({ offset: pendingStart + start, text: data.toString('utf8', start, i) });
          start = i + 1;
        }
        pendingStart += start;
        pending = Buffer.from(data.subarray(start));
      }
      if (options.final && pending.length > 0 && readAt >= size) {
        lines.push({ offset: pendingStart, text: pending.toString('utf8') });
        pendingStart += pending.length;
      }
      this.position = pendingStart;
      return lines;
    } finally {
      closeSync(fd);
    }
  }
}
