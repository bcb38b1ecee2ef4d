/**
 * The model URIs the scorer reads (a path, file://, http(s)://, s3://bucket/key, or "identity"): their scheme and
 * file name, and the redacted form every log line and message shows.
 */

export type Scheme = 'file' | 'http' | 's3' | 'identity';

export interface ModelLocation {
  scheme: Scheme;
  /** The URI as redactUri shows it: safe for logs and messages. */
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
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { scheme: 'file', display: uri, path: uri, fileName: lastSegment(uri) };
  const display = redactUri(uri);
  if (scheme === 'file') {
    const path = decodeURIComponent(parseUrl(uri).pathname);
    return { scheme: 'file', display, path, fileName: lastSegment(path) };
  }
  if (scheme === 'http' || scheme === 'https') {
    const url = parseUrl(uri);
    return { scheme: 'http', display, url, fileName: lastSegment(decodeURIComponent(url.pathname)) };
  }
  if (scheme === 's3') {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(uri);
    if (!m) throw new Error('an s3 URI must be s3://bucket/key');
    return { scheme: 's3', display, bucket: m[1]!, key: m[2]!, fileName: lastSegment(m[2]!) };
  }
  throw new Error(`scheme "${scheme}" is not supported (a path, file://, http://, https:// or s3://)`);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

function parseUrl(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new Error('not a valid URL (spaces and other special characters must be percent-encoded)');
  }
}

/**
 * A model URI as every log line and message shows it: userinfo becomes `***@`, and the query and fragment become
 * `?***` / `#***`, since passwords, tokens and presigned URLs' signatures live there. An unparsable URI is cut the
 * same way by text alone, erring towards hiding too much. Paths have neither and are shown as they are.
 */
export function redactUri(uri: string): string {
  const scheme = SCHEME.exec(uri)?.[0];
  if (scheme === undefined) return uri;
  const url = URL.parse(uri);
  if (url) {
    if (!url.username && !url.password && !url.search && !url.hash) return uri;
    const userinfo = url.username || url.password ? '***@' : '';
    return `${url.protocol}//${userinfo}${url.host}${url.pathname}${url.search ? '?***' : ''}${url.hash ? '#***' : ''}`;
  }
  // Without a parser's word on where userinfo ends, everything before the last "@" may be a password.
  let rest = uri.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const cut = rest.search(/[?#]/);
  if (cut >= 0) rest = `${rest.slice(0, cut)}${rest[cut]}***`;
  return `${scheme}${at >= 0 ? '***@' : ''}${rest}`;
}

function lastSegment(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? '';
}
