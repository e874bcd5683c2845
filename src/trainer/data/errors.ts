// A data set that cannot be used at all is an exception; a bad image is a `problem`, not an error.

export class DatasetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
    this.code = code;
  }
}
