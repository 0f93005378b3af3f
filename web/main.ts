// Entry point: theme first (no flash), then the app. The token the bridge printed is in this
// page's URL; the app passes it on to /lab.json and the tunnel.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { Playground } from './state/playground.svelte.ts';
import { Prefs } from './state/prefs.svelte.ts';

const prefs = new Prefs();
prefs.load();

const playground = new Playground();
let storage: Storage | undefined;
try {
  storage = localStorage;
} catch {
  storage = undefined;
}
playground.start({ token: new URLSearchParams(location.search).get('token') ?? '', storage });
addEventListener('hashchange', () => playground.readHash());

mount(App, { target: document.getElementById('app')!, props: { playground, prefs } });
