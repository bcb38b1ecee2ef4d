import { X509Certificate, createPrivateKey } from 'node:crypto';
import { selfSignedCertificate } from '../../operator/self-signed.js';

describe('selfSignedCertificate', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const { key, cert } = selfSignedCertificate(
    ['scoring-operator-metrics.scoring-system.svc', 'operator-7f9c', '10.1.2.3', 'fd00::1:2'],
    365,
    now,
  );
  const x = new X509Certificate(cert);

  it('is an X.509 certificate that OpenSSL parses, signed by its own key', () => {
    expect(x.subject).toBe('CN=scoring-operator-metrics.scoring-system.svc');
    expect(x.issuer).toBe(x.subject);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(x.ca).toBe(false);
  });

  it('names every DNS name and IP address given (IPv6 too), and no other', () => {
    expect(x.subjectAltName).toBe(
      'DNS:scoring-operator-metrics.scoring-system.svc, DNS:operator-7f9c, IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:1:2',
    );
    expect(x.checkHost('operator-7f9c')).toBe('operator-7f9c');
    expect(x.checkIP('fd00::1:2')).toBe('fd00::1:2');
    expect(x.checkHost('example.com')).toBeUndefined();
  });

  it('is valid from an hour before now (clock skew) for the days asked', () => {
    expect(new Date(x.validFrom)).toEqual(new Date('2026-06-01T11:00:00Z'));
    expect(new Date(x.validTo)).toEqual(new Date('2027-06-01T12:00:00Z'));
  });

  it('writes dates from 2050 on as GeneralizedTime, as RFC 5280 asks', () => {
    const late = new X509Certificate(selfSignedCertificate(['x'], 30, new Date('2049-12-20T00:00:00Z')).cert);
    expect(new Date(late.validTo)).toEqual(new Date('2050-01-19T00:00:00Z'));
  });

  it('gets a new key and serial number each time', () => {
    const other = new X509Certificate(selfSignedCertificate(['x']).cert);
    expect(other.serialNumber).not.toBe(x.serialNumber);
    expect(other.publicKey.export({ format: 'jwk' })).not.toEqual(x.publicKey.export({ format: 'jwk' }));
  });
});
