// Placeholder page (the Svelte app replaces it): fetches the lab list from the bridge and
// opens the tunnel, showing what the bridge granted. The token comes from this page's URL.
import { openTunnel } from '../shared/tunnel/client.ts';

const token = new URLSearchParams(location.search).get('token') ?? '';
const lab = document.getElementById('lab')!;
const tunnel = document.getElementById('tunnel')!;

interface LabList {
  peers: { name: string; enr: string; ip: string; udp: number }[];
}

fetch(`/lab.json?token=${encodeURIComponent(token)}`)
  .then((r) => (r.ok ? (r.json() as Promise<LabList>) : Promise.reject(new Error(`${r.status} ${r.statusText}`))))
  .then((list) => {
    if (list.peers.length === 0) lab.textContent = 'No lab running (started with --no-lab).';
    for (const p of list.peers) {
      const li = document.createElement('li');
      li.textContent = `${p.name} ${p.ip}:${p.udp} `;
      const code = document.createElement('code');
      code.textContent = p.enr;
      li.append(code);
      lab.append(li);
    }
  })
  .catch((e: Error) => (lab.textContent = `Could not load the lab list: ${e.message}`));

const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
openTunnel(new WebSocket(`${scheme}://${location.host}/tunnel?token=${encodeURIComponent(token)}`))
  .then((t) => {
    const l = t.limits;
    tunnel.textContent = `Tunnel open: datagrams ≤ ${l.maxDatagram} bytes, ${l.maxUdpSockets} UDP sockets, ${l.maxTcpConnections} TCP connections.`;
    t.onClose((code, reason) => (tunnel.textContent = `Tunnel closed (${code} ${reason})`));
  })
  .catch((e: Error) => (tunnel.textContent = `Tunnel: ${e.message}`));
