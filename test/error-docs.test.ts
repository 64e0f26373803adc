import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientOp, CloseCode, ErrorCode, ServerOp } from '../protocol/codes';
import { ConfigError } from '../config/config';
import { TransportError } from '../core/transport/select-transport';
import { ApiErrors } from '../api/errors';

const docs = (name: string) => readFileSync(join(__dirname, '..', '..', 'docs', name), 'utf8');

t.test('every protocol constant has a row in docs/protocol.md', async (t) => {
  const spec = docs('protocol.md');
  for (const [name, code] of Object.entries(ErrorCode)) t.match(spec, new RegExp(`\\| ${code} \\| ${name} \\|`), `error ${code} ${name}`);
  for (const [name, code] of Object.entries(CloseCode)) t.match(spec, new RegExp(`\\| ${code} \\| ${name} \\|`), `close ${code} ${name}`);
  for (const [name, op] of Object.entries(ClientOp)) t.match(spec, new RegExp(`\\| ${op} \\| ${name} \\|`), `request op ${op} ${name}`);
  for (const [name, op] of Object.entries(ServerOp)) t.match(spec, new RegExp(`\\| ${op} \\| ${name} \\||\\[${op},[^\\n]*\\*\\*${name}\\*\\*`), `server op ${op} ${name}`);
});

t.test('codes are unique and in their documented ranges', async (t) => {
  const errors = Object.values(ErrorCode);
  t.equal(new Set(errors).size, errors.length, 'no two errors share a code');
  t.ok(errors.every((c) => c >= 100 && c <= 999), 'reply errors are 100–999');
  const closes = Object.values(CloseCode);
  t.equal(new Set(closes).size, closes.length, 'no two close codes share a number');
  t.ok(closes.every((c) => (c >= 1000 && c <= 1015) || (c >= 4000 && c <= 4999)), 'close codes are standard or 4000–4999');
});

t.test('the config and transport error codes are in docs/errors.md', async (t) => {
  t.match(docs('errors.md'), new ConfigError('X', 'y').code);
  t.match(docs('errors.md'), new TransportError('x').code);
});

t.test('every HTTP API error code has a row in docs/errors.md with its status', async (t) => {
  const doc = docs('errors.md');
  for (const [code, { status }] of Object.entries(ApiErrors)) t.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), code);
});
