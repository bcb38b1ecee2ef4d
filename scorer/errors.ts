/** A model that could not be fetched, parsed or verified. The message is the one line a user reads. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  readonly uri: string;

  constructor(uri: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot load model ${uri}: ${reason}`, options);
    this.uri = uri;
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
