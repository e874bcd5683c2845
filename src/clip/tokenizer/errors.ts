// Errors of the CLIP tokenizer's loaders. Like DatasetError, a stable code plus the offending file,
// so that callers can tell a missing vocabulary from a malformed one without parsing messages.
import { ClipsweepError, type ClipTokenizerErrorCode } from '../../errors.js';

export type { ClipTokenizerErrorCode };

export class ClipTokenizerError extends ClipsweepError {
  declare readonly code: ClipTokenizerErrorCode;
  /** The file or folder the error is about (empty for a bad argument). */
  readonly file: string;
  constructor(code: ClipTokenizerErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(code, file ? `${file}: ${message}` : message, options);
    this.name = 'ClipTokenizerError';
    this.file = file;
  }
}
