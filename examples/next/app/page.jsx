import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Predictor } from 'hunch';
import { Live } from './live.jsx';

// A server component: predicts on the server, at request time, from events the server knows
// (here a fixed visit; in a real site, the visitor's recent pages from your own records).
export const dynamic = 'force-dynamic';

const VISIT = ['/', '/c/coffee', '/p/burr-grinder'];

export default async function Page() {
  const predictor = await Predictor.fromBytes(await readFile(path.join(process.cwd(), 'public/model.hunch')));
  let top;
  try {
    const visitor = predictor.sequence();
    visitor.push(VISIT.map((action) => ({ action, type: 'view' })));
    top = visitor.predict({ k: 3 });
  } finally {
    predictor.close();
  }
  return (
    <main>
      <h1>hunch in Next.js</h1>
      <h2>On the server, after {VISIT.join(' → ')}</h2>
      <ol id="server-next">
        {top.map((p) => (
          <li key={p.action} data-action={p.action} data-probability={p.probability}>
            {p.action} ({(100 * p.probability).toFixed(1)}%)
          </li>
        ))}
      </ol>
      <Live />
    </main>
  );
}
