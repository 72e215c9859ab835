// A real S3-compatible server for the tests, on 127.0.0.1: npm's
// @20minutes/s3rver (it verifies SigV4 signatures), started from code since
// it has no CLI.  Run with node --openssl-legacy-provider: its continuation
// tokens use DES.
//
// usage: node s3rver.js MODULE_DIR DATA_DIR PORTFILE BUCKET...
//
// Writes the port to PORTFILE once listening.  Credentials: S3RVER / S3RVER,
// and each ID:SECRET pair of S3RVER_KEYS (comma-separated), for tests that
// need a secret distinct from its key ID.
// Fault injection for the tests, outside S3's API: a request to
// /__fault?kind=K&count=N arms N faults of kind K for the requests after it:
//   503     answer 503 SlowDown without touching the store
//   reset   (the next PUT) read 64 KiB of its body, then drop the connection
//   cutget  (the next GET) send 100 kB of the body, then drop the connection
//   clear   forget the faults still armed
// /__log returns the method and URL of every request so far, one a line.
'use strict';

const http = require('http');
const path = require('path');

const [moduleDir, dataDir, portFile, ...buckets] = process.argv.slice(2);
const S3rver = require(path.join(moduleDir, '@20minutes', 's3rver'));
const fs = require('fs');

const faults = [];
const log = [];

async function main() {
  if (process.env.S3RVER_KEYS) {
    const account = require(path.join(moduleDir, '@20minutes', 's3rver', 'lib', 'models', 'account'));
    for (const pair of process.env.S3RVER_KEYS.split(',')) {
      const i = pair.indexOf(':');
      account.DUMMY_ACCOUNT.createKeyPair(pair.slice(0, i), pair.slice(i + 1));
    }
  }
  const app = new S3rver({
    directory: dataDir,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await app.configureBuckets();
  const handler = app.callback();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/__fault') {
      const kind = url.searchParams.get('kind');
      const n = Number(url.searchParams.get('count') || 1);
      if (kind === 'clear') faults.length = 0;
      else for (let i = 0; i < n; i++) faults.push(kind);
      res.end('armed\n');
      return;
    }
    if (url.pathname === '/__log') {
      res.end(log.join('\n') + (log.length ? '\n' : ''));
      return;
    }
    log.push(`${req.method} ${req.url}`);
    const wants = { reset: 'PUT', cutget: 'GET' };
    const next = faults[0];
    const fault = next && (!wants[next] || wants[next] === req.method) ? faults.shift() : undefined;
    if (fault === '503') {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
        '<Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    if (fault === 'reset') {
      let seen = 0;
      req.on('data', (chunk) => {
        seen += chunk.length;
        if (seen > 65536) req.socket.destroy();
      });
      req.on('end', () => req.socket.destroy());
      return;
    }
    if (fault === 'cutget') {
      let sent = 0;
      const write = res.write.bind(res);
      res.write = (chunk, ...rest) => {
        if (sent > 100000) {
          req.socket.destroy();
          return false;
        }
        sent += chunk.length;
        return write(chunk, ...rest);
      };
    }
    handler(req, res);
  });
  server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(portFile + '.tmp', String(server.address().port));
    fs.renameSync(portFile + '.tmp', portFile);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
