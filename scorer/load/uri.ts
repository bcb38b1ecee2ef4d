/** What the loader reads from a model URI: its scheme, a form safe to log, the format and name it implies. */
import type { ModelFormat } from '../model.js';

export type Scheme = 'file' | 'http' | 's3' | 'identity';

export interface ModelLocation {
  scheme: Scheme;
  /** The URI with credentials and query values replaced by `***`: safe for logs and messages. */
  display: string;
  /** Local path (file), URL (http), bucket and key (s3). */
  path?: string;
  url?: URL;
  bucket?: string;
  key?: string;
  /** Last segment of the path, without query. */
  fileName: string;
}

export function locate(uri: string): ModelLocation {
  if (uri === 'identity') return { scheme: 'identity', display: uri, fileName: 'identity' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { scheme: 'file', display: uri, path: uri, fileName: lastSegment(uri) };
  if (scheme === 'file') {
    const url = new URL(uri);
    const path = decodeURIComponent(url.pathname);
    return { scheme: 'file', display: uri, path, fileName: lastSegment(path) };
  }
  if (scheme === 'http' || scheme === 'https') {
    const url = new URL(uri);
    return { scheme: 'http', display: redact(url), url, fileName: lastSegment(decodeURIComponent(url.pathname)) };
  }
  if (scheme === 's3') {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(uri);
    if (!m) throw new Error('an s3 URI must be s3://bucket/key');
    return { scheme: 's3', display: uri, bucket: m[1]!, key: m[2]!, fileName: lastSegment(m[2]!) };
  }
  throw new Error(`scheme "${scheme}" is not supported (a path, file://, http://, https:// or s3://)`);
}

/** Userinfo and query values (presigned URLs carry signatures there) never reach a log. */
export function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.username) copy.username = '***';
  if (copy.password) copy.password = '***';
  for (const key of [...new Set(copy.searchParams.keys())]) copy.searchParams.set(key, '***');
  return copy.href.replaceAll('%2A', '*');
}

function lastSegment(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? '';
}

const EXTENSIONS: Record<string, ModelFormat> = {
  onnx: 'onnx',
  ort: 'onnx',
  json: 'xgboost',
  ubj: 'xgboost',
  txt: 'lightgbm',
};

/** The format a file name implies; undefined when it implies none. */
export function formatFromName(fileName: string): ModelFormat | undefined {
  if (fileName === 'identity') return 'identity';
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : EXTENSIONS[ext];
}

/** A V2 model name from a file name: the name without extension, limited to the characters the API allows. */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.[A-Za-z0-9]+$/, '');
  const cleaned = stem
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return cleaned || 'model';
}
