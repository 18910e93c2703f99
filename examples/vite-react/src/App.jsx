import { useEffect, useState } from 'react';
import { Predictor } from 'hunch';

// The pages of the shop this model was trained on (the hunch demo shop); each button is a visit
// to one. Events stay in this page: nothing is sent anywhere.
const PAGES = ['/', '/c/coffee', '/p/burr-grinder', '/cart'];

export function App() {
  const [predictor, setPredictor] = useState(null);
  const [error, setError] = useState(null);
  const [top, setTop] = useState([]);
  const [visited, setVisited] = useState([]);

  // One predictor for the page's lifetime: load the model once, free the wasm memory on unmount.
  useEffect(() => {
    let p;
    let gone = false;
    Predictor.fromUrl('/model.hunch')
      .then((loaded) => (gone ? loaded.close() : setPredictor((p = loaded))))
      .catch((e) => setError(`${e.name}: ${e.message}`));
    return () => {
      gone = true;
      p?.close();
    };
  }, []);

  // One sequence (this visitor) per predictor; each visit pushes a view and predicts again.
  const [visitor, setVisitor] = useState(null);
  useEffect(() => setVisitor(predictor ? predictor.sequence() : null), [predictor]);

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
    <main>
      <h1>hunch in Vite + React</h1>
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
      <h2>Likely next</h2>
      <ol id="next">
        {top.map((p) => (
          <li key={p.action} data-action={p.action} data-probability={p.probability}>
            {p.action} ({(100 * p.probability).toFixed(1)}%)
          </li>
        ))}
      </ol>
    </main>
  );
}
