/**
 * The floor bench:scorer holds the scorer's 1-row path against: a bare node:http server with no framework that
 * parses the JSON body and answers `{"score": X}` with the headers the scorer sends. `node dist/bench/echo-server.js
 * PORT`.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { X: unknown };
    const out = JSON.stringify({ score: body.X });
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  });
}).listen(port, '127.0.0.1');
