import { ApiException } from '@kubernetes/client-node';
import { apiErrorText, withStatusWriteError } from '../../operator/api-error.js';

const headers = { 'audit-id': '5f1e', 'content-type': 'application/json' };

describe('apiErrorText', () => {
  it("says the code, the Status's reason and the server's message on one line, without headers", () => {
    const err = new ApiException(
      404,
      'Unknown API Status Code!',
      { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'services "churn" not found' },
      headers,
    );
    expect(err.message).toContain('audit-id');
    expect(apiErrorText(err)).toBe('HTTP 404 NotFound: services "churn" not found');
  });

  it('reads a Status sent as JSON text', () => {
    const body = JSON.stringify({ kind: 'Status', reason: 'Forbidden', code: 403, message: 'cannot get leases' });
    expect(apiErrorText(new ApiException(403, 'Unknown API Status Code!', body, headers))).toBe(
      'HTTP 403 Forbidden: cannot get leases',
    );
  });

  it("falls back to the exception's own message when there is no body", () => {
    expect(apiErrorText(new ApiException(401, 'Unauthorized', undefined, headers))).toBe('HTTP 401 Unauthorized');
  });

  it('keeps the first line of a body that is not a Status, cut short', () => {
    const page = `<html>bad gateway ${'x'.repeat(500)}\n<body>more</body>`;
    const text = apiErrorText(new ApiException(502, 'Unknown API Status Code!', page, headers));
    expect(text.startsWith('HTTP 502 Unknown API Status Code!: <html>bad gateway')).toBe(true);
    expect(text).not.toContain('more');
    expect(text.length).toBeLessThan(260);
  });

  it("gives a network error's first line", () => {
    expect(apiErrorText(new Error('connect ECONNREFUSED 127.0.0.1:6443\n    at stack'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:6443',
    );
    expect(apiErrorText('plain')).toBe('plain');
  });

  it('names both errors of a failed step and its failed status write', () => {
    const apply = new ApiException(
      422,
      'x',
      { kind: 'Status', reason: 'Invalid', code: 422, message: 'bad port' },
      headers,
    );
    expect(apiErrorText(withStatusWriteError(apply, new Error('socket hang up')))).toBe(
      'the reconcile failed, and so did writing its status: HTTP 422 Invalid: bad port; socket hang up',
    );
  });
});
