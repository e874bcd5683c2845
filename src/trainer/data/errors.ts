// A data set that cannot be used at all is an exception; a bad image is a `problem`, not an error.
import { ClipsweepError, type DatasetErrorCode } from '../../errors.js';

export class DatasetError extends ClipsweepError {
  declare readonly code: DatasetErrorCode;
  constructor(code: DatasetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DatasetError';
  }
}
