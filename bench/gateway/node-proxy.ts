/**
 * The floor for a Node proxy: node:http server, undici Pool, the answer relayed in one write,
 * no policies, no header hygiene, no metrics. What the gateway costs above this is its own.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.env.UPSTREAM!, { connections: 64, pipelining: 1 });
createServer((req, res) => {
  const chunks: Buffer[] = [];
  let status = 0;
  let headers: Record<string, string | string[] | undefined> = {};
  pool.dispatch(
    { method: 'GET', path: req.url!, headers: { host: req.headers.host } },
    {
      onRequestStart() {},
      onResponseStart(_c, statusCode, h) {
        status = statusCode;
        headers = h;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        res.writeHead(status, headers);
        res.end(Buffer.concat(chunks).toString('latin1'), 'latin1');
      },
      onResponseError(_c, err) {
        res.destroy(err);
      },
    },
  );
}).listen(Number(process.env.PORT), '127.0.0.1');
