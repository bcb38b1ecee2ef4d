/** METRICS_CERT_DIR: the certificate read from it, and a renewal followed as the kubelet mounts it. */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readCertificateDir,
  selfSignedMetricsCertificate,
  watchCertificateDir,
} from '../../operator/metrics-certificate.js';
import type { KeyAndCertificate } from '../../operator/self-signed.js';
import { selfSignedCertificate } from '../../operator/self-signed.js';
import { waitFor } from '../helpers/wait.js';

/** A directory laid out as the kubelet mounts a Secret: tls.crt -> ..data/tls.crt, ..data -> ..<version>. */
class SecretMount {
  readonly dir = mkdtempSync(join(tmpdir(), 'metrics-cert-'));
  private version = 0;
  constructor(tls: KeyAndCertificate) {
    this.write(tls);
    for (const f of ['tls.crt', 'tls.key']) symlinkSync(join('..data', f), join(this.dir, f));
  }
  /** The kubelet's update: a new version directory, then one rename of the ..data link. */
  write(tls: KeyAndCertificate): void {
    const version = `..v${++this.version}`;
    mkdirSync(join(this.dir, version));
    writeFileSync(join(this.dir, version, 'tls.crt'), tls.cert);
    writeFileSync(join(this.dir, version, 'tls.key'), tls.key);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

it('reads tls.crt and tls.key from the directory', () => {
  const tls = selfSignedCertificate(['a']);
  const mount = new SecretMount(tls);
  try {
    expect(readCertificateDir(mount.dir)).toEqual(tls);
  } finally {
    mount.remove();
  }
});

it('follows a renewed certificate, once, and reports a pair it cannot read', async () => {
  const mount = new SecretMount(selfSignedCertificate(['first']));
  const changes: KeyAndCertificate[] = [];
  const failures: unknown[] = [];
  const watcher = watchCertificateDir(
    mount.dir,
    (tls) => changes.push(tls),
    (err) => failures.push(err),
  );
  try {
    const renewed = selfSignedCertificate(['renewed']);
    mount.write(renewed);
    await waitFor('the renewed certificate', () => changes.length > 0);
    expect(changes).toEqual([renewed]);
    // A change that leaves no readable pair is reported, and the certificate served stays.
    rmSync(join(mount.dir, 'tls.key'));
    writeFileSync(join(mount.dir, 'other'), '');
    await waitFor('the failure', () => failures.length > 0);
    expect(changes).toHaveLength(1);
  } finally {
    watcher.close();
    mount.remove();
  }
});

it("names the self-signed certificate for the metrics Service of the operator's namespace and the pod", () => {
  const x = new X509Certificate(selfSignedMetricsCertificate('ops', 'scoring-operator-5d9f').cert);
  expect(x.subjectAltName).toBe(
    'DNS:scoring-operator-metrics.ops.svc, DNS:scoring-operator-metrics.ops.svc.cluster.local, ' +
      'DNS:scoring-operator-5d9f, DNS:localhost, IP Address:127.0.0.1',
  );
});
