import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRoomDirectory } from './room-directory-sqlite';
import { roomDirectoryConformance } from './room-directory.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-rooms-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
roomDirectoryConformance(t, 'sqlite', async () => new SqliteRoomDirectory(join(dir, `rooms-${n++}.sqlite`)));
