/**
 * A real S3-compatible server for tests: MinIO, built from its Go module by scripts/build-minio.sh (cached under
 * ~/.cache/scoring-operator/bin), listening on 127.0.0.1 (or `host`: the e2e suite's pods reach the machine at the
 * local node's host address) with a temporary data directory.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../harness/net.js';
import { StopWaiting, waitFor } from '../../harness/wait.js';

const BUILD = fileURLToPath(new URL('../../scripts/build-minio.sh', import.meta.url));

export interface S3Server {
  /** http://HOST:PORT (127.0.0.1 unless another host was asked for) */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  bucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  stop(): Promise<void>;
}

/** The MinIO binary: $MINIO_BINARY, or the one build-minio.sh prints (building it on first use). */
function minioBinary(): string {
  if (process.env.MINIO_BINARY) return process.env.MINIO_BINARY;
  const built = spawnSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error(`scripts/build-minio.sh failed (exit ${built.status})`);
  return built.stdout.trim().split('\n').pop()!;
}

export async function startS3Server({ host = '127.0.0.1' }: { host?: string } = {}): Promise<S3Server> {
  const binary = minioBinary();
  const dataDir = mkdtempSync(join(tmpdir(), 'minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const accessKeyId = `test${randomBytes(4).toString('hex')}`;
  const secretAccessKey = randomBytes(16).toString('hex');
  const endpoint = `http://${host}:${port}`;
  const child = spawn(
    binary,
    ['server', dataDir, '--address', `${host}:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    {
      env: {
        PATH: process.env.PATH,
        HOME: dataDir,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'minio to be ready',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new StopWaiting(`minio exited (${child.exitCode ?? child.signalCode}) before it was ready`);
        }
        return (await fetch(`${endpoint}/minio/health/ready`).catch(() => undefined))?.ok;
      },
      60_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${stderr}`, { cause: err });
    });
  } catch (err) {
    await stop();
    throw err;
  }

  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    bucket: async (name) => void (await client.send(new CreateBucketCommand({ Bucket: name }))),
    put: async (bucket, key, body) =>
      void (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))),
    stop: async () => {
      client.destroy();
      await stop();
    },
  };
}
