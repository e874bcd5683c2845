import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const STDERR_TAIL_BYTES = 4096;

/** The last bytes written to a log since offset `from` (this attempt's part); '' if there is none. */
export function readStderrTail(file: string, from: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - STDERR_TAIL_BYTES);
    if (size <= start) return '';
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    // A tail cut mid-line starts at the next full line.
    return buffer.toString('utf8').replace(/^[^\n]*\n/, (first) => (start > from ? '' : first));
  } finally {
    closeSync(fd);
  }
}
