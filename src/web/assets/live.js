// The console's live updates, a small progressive enhancement: the page listens to the server's
// events (Server-Sent Events, fed by the database's LISTEN/NOTIFY) and, when something it shows
// changed, fetches itself again and swaps its <main>; a polite live region announces what moved.
// Without JavaScript the page is the same, reloaded by hand.
(() => {
  'use strict';
  const env = document.body.dataset.env || '';
  const announce = document.getElementById('live');
  const source = new EventSource(
    `/kindler/api/events${env ? `?env=${encodeURIComponent(env)}` : ''}`,
  );
  let timer = null;
  let said = '';
  // Times are written in UTC; each reader sees them in their own zone on hover.
  const localTimes = () => {
    for (const t of document.querySelectorAll('time[datetime]'))
      t.title = new Date(t.dateTime).toLocaleString();
  };
  localTimes();
  const refresh = async () => {
    timer = null;
    const res = await fetch(location.href, { headers: { accept: 'text/html' } });
    if (!res.ok) return;
    const next = new DOMParser().parseFromString(await res.text(), 'text/html');
    const main = document.querySelector('main');
    const fresh = next.querySelector('main');
    if (main && fresh) main.replaceWith(fresh);
    localTimes();
    if (announce && said) announce.textContent = said;
  };
  const onEvent = (e) => {
    const data = JSON.parse(e.data);
    said =
      data.type === 'resync'
        ? 'live updates are back; the page was read again'
        : data.type === 'step'
          ? `${data.env}: step ${data.step} ${data.status}`
          : data.type === 'operation'
            ? `${data.env}: ${data.kind} ${data.status}`
            : `${data.env}: ${data.status ?? 'deleted'}`;
    if (!timer) timer = setTimeout(() => void refresh(), 150);
  };
  for (const type of ['operation', 'step', 'environment', 'resync'])
    source.addEventListener(type, onEvent);
})();
