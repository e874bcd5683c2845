// Reads the complete lines appended to a file since the last read, with their byte offsets.
// Polling with positional reads (not fs.watch): it works the same on every filesystem,
// network filesystems included, and costs one read call per run per poll.
//
// Two promises a tail keeps:
// - No line is dropped. A read returns at most about `maxBytes`, and says whether it reached the
//   end (`caughtUp`); the caller reads again until it has. A line longer than MAX_LINE_BYTES is
//   returned as skipped (its offset and length, no text) and reading goes on after it, with memory
//   bounded by MAX_LINE_BYTES whatever the writer does.
// - A file replaced under its name (a rename over it, or truncated and rewritten) is read again
//   from its start. It is recognised by identity (device and inode), by length, and by its first
//   bytes, not by its length alone: a longer replacement would otherwise be read from the middle.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface TailLine {
  /** Byte offset of the line's first byte. */
  offset: number;
  text: string;
  /** Set for a line longer than MAX_LINE_BYTES: its length in bytes; `text` is then empty. */
  skippedBytes?: number;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** Longer lines are skipped: no metrics line comes near it, and it bounds what a tail holds. */
export const MAX_LINE_BYTES = 16 * CHUNK;
/** How many of the file's first bytes identify it. */
const PREFIX_BYTES = 64;

export class FileTail {
  readonly path: string;
  private position: number;
  /** Where the line being skipped started (it is longer than MAX_LINE_BYTES), or null. */
  private skipping: number | null = null;
  private identity: { dev: number; ino: number } | null = null;
  private prefix: Buffer = Buffer.alloc(0);
  private reachedEnd = true;
  private replacements = 0;
  private readonly maxLineBytes: number;

  constructor(path: string, offset: number, options: { maxLineBytes?: number } = {}) {
    this.path = path;
    this.position = offset;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  /** The offset after the last line returned (or skipped). */
  get offset(): number {
    return this.position;
  }

  /** Whether the last read reached the end of the file as it was then. */
  get caughtUp(): boolean {
    return this.reachedEnd;
  }

  /** How many times the file was found replaced and read again from its start. */
  get replaced(): number {
    return this.replacements;
  }

  /**
   * Complete lines written since the last call, at most about `maxBytes` of them (see `caughtUp`).
   * With `final`, a last line without its newline is returned too (the writer has exited).
   */
  read(options: { final?: boolean; maxBytes?: number } = {}): TailLine[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.reachedEnd = true;
        return [];
      }
      throw error;
    }
    try {
      const stat = fstatSync(fd);
      const size = stat.size;
      if (this.isReplaced(fd, stat, size)) {
        this.position = 0;
        this.skipping = null;
        this.replacements++;
      }
      this.identity = { dev: stat.dev, ino: stat.ino };
      this.rememberPrefix(fd, size);
      return this.readLines(fd, size, options.final ?? false, options.maxBytes ?? 64 * CHUNK);
    } finally {
      closeSync(fd);
    }
  }

  /** Every line up to the end of the file, however much that is (for small side files). */
  readAll(options: { final?: boolean } = {}): TailLine[] {
    const lines: TailLine[] = [];
    do lines.push(...this.read(options));
    while (!this.reachedEnd);
    return lines;
  }

  private isReplaced(fd: number, stat: { dev: number; ino: number }, size: number): boolean {
    if (this.identity !== null && (this.identity.dev !== stat.dev || this.identity.ino !== stat.ino)) return true;
    if (size < this.position) return true;
    // Truncated and rewritten in place (same inode): its first bytes changed.
    if (this.prefix.length === 0) return false;
    const now = readAt(fd, 0, Math.min(this.prefix.length, size));
    return now.length < this.prefix.length || !now.equals(this.prefix);
  }

  private rememberPrefix(fd: number, size: number): void {
    if (this.prefix.length < PREFIX_BYTES && size > this.prefix.length)
      this.prefix = readAt(fd, 0, Math.min(PREFIX_BYTES, size));
  }

  private readLines(fd: number, size: number, final: boolean, maxBytes: number): TailLine[] {
    const lines: TailLine[] = [];
    // Pieces of the line being read, which may span chunks (a list, not repeated concatenation).
    let pieces: Buffer[] = [];
    let pendingBytes = 0;
    let lineStart = this.position;
    let readPos = this.position;
    const from = this.position;
    while (readPos < size && readPos - from < maxBytes) {
      const chunk = readAt(fd, readPos, Math.min(CHUNK, size - readPos));
      if (chunk.length === 0) break;
      const chunkStart = readPos;
      readPos += chunk.length;
      let start = 0;
      if (this.skipping !== null) {
        const end = chunk.indexOf(NEWLINE);
        if (end === -1) continue;
        lines.push({ offset: this.skipping, text: '', skippedBytes: chunkStart + end - this.skipping });
        this.skipping = null;
        start = end + 1;
        lineStart = chunkStart + start;
      }
      for (let i = chunk.indexOf(NEWLINE, start); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
        const length = pendingBytes + i - start;
        if (length > this.maxLineBytes) lines.push({ offset: lineStart, text: '', skippedBytes: length });
        else if (pieces.length === 0) lines.push({ offset: lineStart, text: chunk.toString('utf8', start, i) });
        else
          lines.push({
            offset: lineStart,
            text: Buffer.concat([...pieces, chunk.subarray(start, i)]).toString('utf8'),
          });
        pieces = [];
        pendingBytes = 0;
        start = i + 1;
        lineStart = chunkStart + start;
      }
      if (start < chunk.length) {
        pieces.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > this.maxLineBytes) {
          // Too long to hold: drop what is read of it and skip to its end.
          this.skipping = lineStart;
          pieces = [];
          pendingBytes = 0;
        }
      }
    }
    this.reachedEnd = readPos >= size;
    if (final && this.reachedEnd) {
      if (this.skipping !== null) {
        lines.push({ offset: this.skipping, text: '', skippedBytes: size - this.skipping });
        this.skipping = null;
        lineStart = size;
      } else if (pendingBytes > 0) {
        lines.push({ offset: lineStart, text: Buffer.concat(pieces).toString('utf8') });
        lineStart = size;
      }
    }
    // While skipping, what was read of the long line is consumed; otherwise a partial line is
    // read again, whole, next time.
    this.position = this.skipping !== null ? readPos : lineStart;
    return lines;
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, buffer, filled, length - filled, position + filled);
    if (n <= 0) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}
