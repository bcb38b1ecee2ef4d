/** redactUri, the one function every log line and message naming a model URI goes through. */
import { redactUri } from '../../contract/uri.js';

describe('redactUri', () => {
  it.each([
    ['keeps a path as it is', '/models/v1@2/m?.onnx', '/models/v1@2/m?.onnx'],
    ['keeps the identity model', 'identity', 'identity'],
    [
      'keeps a URL without secrets',
      'https://models.example.com/churn/m.onnx',
      'https://models.example.com/churn/m.onnx',
    ],
    ['keeps an s3 URI', 's3://models/prod/m.json', 's3://models/prod/m.json'],
    ['keeps a file URI with an "@" in its path', 'file:///srv/a@b/m.onnx', 'file:///srv/a@b/m.onnx'],
    ['hides user and password', 'https://alice:S3CRET@host:8443/m.onnx', 'https://***@host:8443/m.onnx'],
    ['hides a user alone', 'http://alice@host/m.onnx', 'http://***@host/m.onnx'],
    [
      "hides a presigned URL's query",
      'https://b.s3.amazonaws.com/m.onnx?X-Amz-Credential=AKIA&X-Amz-Signature=abc',
      'https://b.s3.amazonaws.com/m.onnx?***',
    ],
    ['hides a bare query key', 'https://host/m.onnx?TOKEN', 'https://host/m.onnx?***'],
    ['hides a fragment', 'https://host/m.onnx#access_token=abc', 'https://host/m.onnx#***'],
    ['hides userinfo of an unparsable URI', 'https://alice:S3CRET@bad host/m.onnx', 'https://***@bad host/m.onnx'],
    ['hides a password holding "#" and "@"', 'https://alice:p#a@ss@bad host/m.onnx', 'https://***@bad host/m.onnx'],
    ['hides the query of an unparsable URI', 'http://bad host/m.onnx?token=abc', 'http://bad host/m.onnx?***'],
  ])('%s', (_what, uri, shown) => {
    expect(redactUri(uri)).toBe(shown);
    expect(redactUri(shown)).toBe(shown);
  });
});
