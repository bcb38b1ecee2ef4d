/**
 * The certificate of the operator's /metrics: the one mounted in METRICS_CERT_DIR (tls.crt and tls.key, as a
 * kubernetes.io/tls Secret or cert-manager's Certificate gives them), followed as it is renewed, or else a
 * self-signed one made at start-up.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCertificate, type KeyAndCertificate } from './self-signed.js';

export function readCertificateDir(dir: string): KeyAndCertificate {
  return { cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') };
}

/** The self-signed certificate's names: the metrics Service's in `namespace`, the pod's host name, loopback. */
export function selfSignedMetricsCertificate(namespace: string, host: string): KeyAndCertificate {
  const service = `scoring-operator-metrics.${namespace}.svc`;
  return selfSignedCertificate([service, `${service}.cluster.local`, host, 'localhost', '127.0.0.1']);
}

/**
 * Calls `changed` with the directory's certificate whenever its files change. The kubelet updates a mounted Secret
 * by swapping a symbolic link, one rename for both files; a pair read half-way through a writer's change (key and
 * certificate that do not match) is reported to `failed` and the next change read again.
 */
export function watchCertificateDir(
  dir: string,
  changed: (tls: KeyAndCertificate) => void,
  failed: (err: unknown) => void,
): FSWatcher {
  const read = () => {
    const tls = readCertificateDir(dir);
    return { tls, digest: tls.cert + tls.key };
  };
  let last = read().digest;
  return watch(dir, () => {
    try {
      const { tls, digest } = read();
      if (digest === last) return;
      changed(tls);
      last = digest;
    } catch (err) {
      failed(err);
    }
  });
}
