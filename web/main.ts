// Entry point: theme first (no flash), then the app. The token the bridge printed is in this
// page's URL; the app passes it on to /lab.json and the tunnel.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { Playground } from './state/playground.svelte.ts';
import { Prefs } from './state/prefs.svelte.ts';
import { PageRoom } from './room/room.svelte.ts';

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
// A workshop room when the bridge runs one; `lesson:` (the lessons module's progress) joins here.
const room = new PageRoom(playground);
let session: Storage | undefined;
try {
  session = sessionStorage;
} catch {
  session = undefined;
}
void room.start({ token: params.get('token') ?? '', teacher: params.get('teacher') ?? undefined, session, local: storage });
addEventListener('hashchange', () => playground.readHash());

mount(App, { target: document.getElementById('app')!, props: { playground, prefs, room } });
