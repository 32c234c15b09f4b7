/** A round initial with an optional presence dot (online / offline / unknown). */
const COLOURS = ['#1f8a5b', '#3a6fd8', '#c2541d', '#8a4fd0', '#b0326a', '#2b8a9a'];

const DEMO: Record<string, string> = { alice: '#1f8a5b', bob: '#3a6fd8', carol: '#8a4fd0', dave: '#c2541d' };

function colourOf(id: string): string {
  const known = DEMO[id];
  if (known) return known;
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLOURS[h % COLOURS.length] ?? '#1f8a5b';
}

export function Avatar({ id, name, online, size = 40 }: { id: string; name: string; online?: boolean | null | undefined; size?: number }) {
  return (
    <span className="avatar" style={{ width: size, height: size, background: colourOf(id), fontSize: size * 0.42 }} aria-hidden="true">
      {name.charAt(0).toUpperCase()}
      {online !== undefined && (
        <span className={`presence-dot ${online ? 'is-online' : 'is-offline'}`} data-online={online === true ? 'true' : 'false'} />
      )}
    </span>
  );
}
