// Entry point: theme first (no flash), then the app. The token the bridge printed is in this
// page's URL; the app passes it on to /lab.json and the tunnel.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { Playground } from './state/playground.svelte.ts';
import { Prefs } from './state/prefs.svelte.ts';
import { Lessons } from './state/lessons.svelte.ts';
import { loadGlossary } from './lib/glossary.svelte.ts';
import { prefetchLazy } from './lib/lazy.ts';
import { joinRoomIfAny } from './room/join.svelte.ts';

const prefs = new Prefs();
prefs.load();

const playground = new Playground();
let storage: Storage | undefined;
try {
  storage = localStorage;
} catch {
  storage = undefined;
}
const params = new URLSearchParams(location.search);
playground.start({ token: params.get('token') ?? '', storage });
addEventListener('hashchange', () => playground.readHash());

// Every checkpoint reads the page's state as the learner left it.
const lessons = new Lessons(storage, () => ({
  protocol: playground.protocol,
  view: playground.view,
  stepMode: playground.stepMode,
  tab: playground.rightTab,
  records: playground.current.packets,
  ...(playground.selectedPacket ? { selected: playground.selectedPacket } : {}),
  ...(playground.selectedField ? { field: playground.selectedField } : {}),
  ...(playground.pickedKey ? { pickedKey: playground.pickedKey } : {}),
  ...(playground.result ? { result: { action: playground.result.action, ok: playground.result.ok } } : {}),
}));

// A workshop room when the bridge runs one: it sends the lesson's progress and the handshake counts.
let session: Storage | undefined;
try {
  session = sessionStorage;
} catch {
  session = undefined;
}
void joinRoomIfAny(playground, { token: params.get('token') ?? '', teacher: params.get('teacher') ?? undefined, lesson: () => lessons.progress, session, local: storage });

mount(App, { target: document.getElementById('app')!, props: { playground, prefs, lessons } });
// After the first paint: terms are marked once their definitions are in.
setTimeout(() => void loadGlossary().then(prefetchLazy), 0);
