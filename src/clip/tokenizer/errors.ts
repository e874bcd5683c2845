// Errors of the CLIP tokenizer's loaders. Like DatasetError, a string code plus the offending file,
// so that callers can tell a missing vocabulary from a malformed one without parsing messages.

export type ClipTokenizerErrorCode = 'TOKENIZER_NOT_FOUND' | 'TOKENIZER_FORMAT' | 'TOKENIZER_ARGUMENT';

export class ClipTokenizerError extends Error {
  readonly code: ClipTokenizerErrorCode;
  /** The file or folder the error is about (empty for a bad argument). */
  readonly file: string;
  constructor(code: ClipTokenizerErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(file ? `${file}: ${message}` : message, options);
    this.name = 'ClipTokenizerError';
    this.code = code;
    this.file = file;
  }
}
