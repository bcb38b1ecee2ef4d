/**
 * grpcurl, a gRPC client nobody here wrote, run against the scorer's gRPC server. It is built from its Go module by
 * scripts/build-grpcurl.sh (minutes, so the unit suite runs without it unless REQUIRE_GRPCURL=1, as CI sets).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The service's full name, as grpcurl names its methods: `${SERVICE}/ModelInfer`. */
export const SERVICE = 'inference.GRPCInferenceService';
const PROTO_DIR = join(ROOT, 'scorer/grpc');

/** Where scripts/build-grpcurl.sh caches the binary, for the version it pins. */
function cachedGrpcurl(): string {
  const script = readFileSync(join(ROOT, 'scripts/build-grpcurl.sh'), 'utf8');
  const version = /GRPCURL_VERSION:-(v[^}]+)\}/.exec(script)?.[1];
  if (!version) throw new Error('scripts/build-grpcurl.sh no longer pins GRPCURL_VERSION as ${GRPCURL_VERSION:-v...}');
  const cache = process.env.SCORING_CACHE || join(homedir(), '.cache/scoring-operator');
  return join(cache, 'bin', `grpcurl-${version}`);
}

/** $GRPCURL, else the cached build; undefined when there is none. */
export function findGrpcurl(): string | undefined {
  const path = process.env.GRPCURL || cachedGrpcurl();
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * `describe` when grpcurl is there. Without it the tests are skipped, saying so (and how to build it); with
 * REQUIRE_GRPCURL=1 they fail instead.
 */
export function describeWithGrpcurl(name: string, fn: () => void): void {
  if (findGrpcurl()) {
    describe(name, fn);
  } else if (process.env.REQUIRE_GRPCURL === '1') {
    it(name, () => {
      throw new Error(
        `REQUIRE_GRPCURL=1 but grpcurl is not at ${process.env.GRPCURL || cachedGrpcurl()}: ` +
          'run bash scripts/build-grpcurl.sh (or set GRPCURL)',
      );
    });
  } else {
    process.stderr.write(`skipped "${name}": grpcurl not built (bash scripts/build-grpcurl.sh, or set GRPCURL)\n`);
    it.skip(`${name} (skipped: grpcurl not built; bash scripts/build-grpcurl.sh)`, () => undefined);
  }
}

export interface GrpcReply {
  /** The gRPC status code: 0 for OK. */
  code: number;
  /** The answer (as protobuf's JSON mapping prints it), or `{code, message}` for an error. */
  body: Record<string, unknown>;
}

export interface CallOptions {
  /** Use the .proto rather than server reflection. */
  proto?: boolean;
}

/**
 * Calls `method` of the scorer's service at `address` with `request` (protobuf's JSON mapping) through grpcurl, over
 * plaintext HTTP/2. Asynchronous: the scorer answering may run in this very process.
 */
export function grpcurl(
  address: string,
  method: string,
  request?: unknown,
  { proto = false }: CallOptions = {},
): Promise<GrpcReply> {
  const args = [
    '-plaintext',
    '-format-error',
    '-max-msg-sz',
    String(64 << 20),
    ...(proto ? ['-import-path', PROTO_DIR, '-proto', 'inference.proto'] : []),
    ...(request === undefined ? [] : ['-d', JSON.stringify(request)]),
    address,
    method.includes('/') ? method : `${SERVICE}/${method}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(findGrpcurl()!, args, { maxBuffer: 64 << 20, timeout: 30_000 }, (err, stdout, stderr) => {
      const text = stdout.trim() || stderr.trim();
      let body: Record<string, unknown>;
      try {
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        reject(new Error(`grpcurl ${args.join(' ')}: ${err?.message ?? ''}\n${stdout}${stderr}`));
        return;
      }
      // grpcurl exits with 64 + the status code for an RPC's error, and prints it as {code, message}.
      const exit = (err as { code?: unknown } | null)?.code;
      if (err && !(typeof exit === 'number' && exit > 64 && typeof body.code === 'number')) {
        reject(new Error(`grpcurl ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
        return;
      }
      resolve({ code: err ? (body.code as number) : 0, body });
    });
  });
}

/** grpcurl with other arguments (`list`, `describe`): what it prints. */
export function grpcurlText(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(findGrpcurl()!, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`grpcurl ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}
