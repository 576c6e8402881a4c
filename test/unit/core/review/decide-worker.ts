// Child process for the concurrent-hosts test: decides `count` times on one frame from its own connection.
import { openDb } from '../../../../src/store/db';
import { decide } from '../../../../src/main/core/review/decisions';

const [dir, frameId, actor, count] = process.argv.slice(2);
const db = openDb(dir!);
for (let i = 0; i < Number(count); i++) decide(db, { frameIds: [Number(frameId)], action: 'relabel', label: (i % 6) + 1, actor: actor! });
db.close();
