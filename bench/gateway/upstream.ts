/** The bench's upstream: a bare node:http server answering a small JSON document. */
import { createServer } from 'node:http';

const body = JSON.stringify({
  id: 42,
  name: 'Wireless Mouse',
  price: 29.99,
  currency: 'USD',
  category_id: 7,
  in_stock: true,
});
const port = Number(process.env.PORT ?? 0);
createServer((req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': req.url?.startsWith('/cached') ? 'public, max-age=60' : 'no-cache',
  });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log('ready'));
