import { redactUri } from '../contract/uri.js';

/**
 * A model that could not be fetched, parsed or verified. The message is the one line a user reads, on stderr and in
 * the termination log, so it names the model by its redacted URI whatever the caller passes.
 */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  /** Redacted. */
  readonly uri: string;

  constructor(uri: string, reason: string, options?: { cause?: unknown }) {
    const shown = redactUri(uri);
    super(`cannot load model ${shown}: ${reason}`, options);
    this.uri = shown;
  }
}

/** A request the client must fix: the HTTP layer answers it with `status` and `{"error": message}`. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
