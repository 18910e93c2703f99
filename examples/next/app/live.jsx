'use client';
import { useEffect, useState } from 'react';
import { Predictor } from 'hunch';

// The pages of the shop the model was trained on (the hunch demo shop); each button is a visit.
const PAGES = ['/', '/c/coffee', '/p/burr-grinder', '/cart'];

// A client component: the model runs in the visitor's browser; events never leave it.
export function Live() {
  const [visitor, setVisitor] = useState(null);
  const [error, setError] = useState(null);
  const [top, setTop] = useState([]);
  const [visited, setVisited] = useState([]);

  useEffect(() => {
    let p;
    let gone = false;
    Predictor.fromUrl('/model.hunch')
      .then((loaded) => {
        if (gone) return loaded.close();
        p = loaded;
        setVisitor(loaded.sequence());
      })
      .catch((e) => setError(`${e.name}: ${e.message}`));
    return () => {
      gone = true;
      p?.close();
    };
  }, []);

  function visit(page) {
    // The time is the SDK's default (now); it is kept here only to show it. The model reads the
    // gaps between events.
    const event = { action: page, type: 'view', time: Date.now() };
    visitor.push(event);
    setVisited((v) => [...v, event]);
    setTop(visitor.predict({ k: 3 }));
  }

  if (error) return <p id="error">{error}</p>;
  if (!visitor) return <p id="loading">Loading the model…</p>;
  return (
    <section>
      <h2>In your browser</h2>
      <nav>
        {PAGES.map((page) => (
          <button key={page} data-page={page} onClick={() => visit(page)}>
            {page}
          </button>
        ))}
      </nav>
      <p>
        Visited:{' '}
        <span id="visited">
          {visited.length === 0 && 'nothing yet'}
          {visited.map((e, i) => (
            <span key={i} data-action={e.action} data-time={e.time}>
              {i > 0 && ' → '}
              {e.action}
            </span>
          ))}
        </span>
      </p>
      <ol id="next">
        {top.map((p) => (
          <li key={p.action} data-action={p.action} data-probability={p.probability}>
            {p.action} ({(100 * p.probability).toFixed(1)}%)
          </li>
        ))}
      </ol>
    </section>
  );
}
