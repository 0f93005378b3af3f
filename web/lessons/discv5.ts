// "Your first discv5 handshake": Ping a lab node, find the challenge and its id-nonce, see which
// key sealed the answer, then watch the same exchange one packet at a time in Step mode.
// Every checkpoint reads what the learner did (LessonContext), never a button press alone.
import { SPEC } from '../../shared/discv5/spec.ts';
import { latest, type Lesson, type LessonContext } from './types.ts';

const pong = (c: LessonContext) => latest(c.since, (r) => r.direction === 'in' && r.message?.type === 'PONG' && !r.held);

export const firstDiscv5: Lesson = {
  id: 'discv5-first-handshake',
  protocol: 'discv5',
  title: 'Your first discv5 handshake',
  steps: [
    {
      id: 'ping',
      goal: 'Make your browser’s node talk to a real node.',
      todo: 'A lab node is already chosen on the left. Press Ping.',
      target: ['[data-lesson="ping"]'],
      check: (c) => (pong(c) ? true : c.result?.action === 'ping' && !c.result.ok ? { hint: 'That Ping failed: press it again.' } : false),
      why: 'Two nodes that have never met cannot read each other yet: your first Ping starts a handshake, and four packets appear on the timeline.',
      spec: { label: 'discv5-theory · Handshake steps', link: SPEC.step1.replace(/#.*/, '#handshake-steps') },
    },
    {
      id: 'whoareyou',
      goal: 'Find the challenge the peer sent back.',
      todo: 'Click the orange WHOAREYOU arrow on the timeline.',
      target: ['.timeline [data-kind="WHOAREYOU"]'],
      check: (c) => c.selected?.kind === 'WHOAREYOU' || (c.selected ? { hint: 'That is another packet: look for the orange arrow labelled WHOAREYOU.' } : false),
      why: 'The peer could not decrypt your Ping (you had no keys in common), so it answers “who are you?” with a challenge.',
      spec: { label: 'discv5-wire · WHOAREYOU packet', link: SPEC.whoareyou },
    },
    {
      id: 'id-nonce',
      goal: 'Find the random value you must sign.',
      todo: 'In Packet bytes, open the authdata layer and click the id-nonce field.',
      target: ['.tree [data-field="id-nonce"]', '.layers [data-layer="authdata"]'],
      check: (c) => (c.selected?.kind === 'WHOAREYOU' && c.field?.name === 'id-nonce') || (c.field ? { hint: `That is ${c.field.name}: look for id-nonce in the authdata layer of the WHOAREYOU.` } : false),
      why: 'id-nonce is 16 random bytes: signing them proves you own your node’s key, and an old signature is useless for the next challenge.',
      spec: { label: 'discv5-wire · WHOAREYOU packet', link: SPEC.whoareyou },
    },
    {
      id: 'keys',
      goal: 'See the keys both sides derived.',
      todo: 'Open the Key schedule tab.',
      target: ['[data-lesson="tab-keys"]'],
      check: (c) => c.tab === 'keys',
      why: 'Each side runs ECDH and HKDF on its own; no key ever crosses the wire, yet both end with the same two keys.',
      spec: { label: 'discv5-theory · Identity-specific cryptography', link: SPEC.crypto },
    },
    {
      id: 'which-key',
      goal: 'Which key sealed the PONG?',
      todo: 'The PONG travelled from the peer to you. Click the session key whose line ends in “→ you”.',
      target: ['[data-lesson="key"]'],
      check: (c) =>
        c.pickedKey === 'recipient-key' ||
        (c.pickedKey ? { hint: 'Not that one: initiator-key seals what the initiator (you) sends. The PONG came the other way.' } : false),
      why: 'One key per direction: recipient-key seals everything the recipient sends back, so the two directions never share a nonce under one key.',
      spec: { label: 'discv5-theory · Identity-specific cryptography', link: SPEC.crypto },
    },
    {
      id: 'drop',
      goal: 'Forget the session, so the next Ping handshakes again.',
      todo: 'Press Drop session.',
      target: ['[data-lesson="drop"]'],
      check: (c) => c.result?.action === 'drop' && c.result.ok,
      why: 'Without session keys your node must start over: the next Ping is again a random packet that provokes a WHOAREYOU.',
      spec: { label: 'discv5-theory · Session cache', link: SPEC.sessionCache },
    },
    {
      id: 'step-on',
      goal: 'Slow the handshake down to one packet at a time.',
      todo: 'Turn on Step (top bar).',
      target: ['[data-lesson="step"]'],
      check: (c) => c.stepMode,
      why: 'In Step mode your node stops before every packet it sends and after every packet it receives, and explains it.',
      spec: { label: 'discv5-theory · Handshake steps', link: SPEC.step1.replace(/#.*/, '#handshake-steps') },
    },
    {
      id: 'step-ping',
      goal: 'Start the handshake again, held before the first packet.',
      todo: 'Press Ping. The packet about to be sent appears dashed on the timeline, with “press → to send”.',
      target: ['[data-lesson="ping"]'],
      check: (c) => c.stepMode && c.since.some((r) => r.direction === 'out' && r.kind === 'random'),
      why: 'The random packet is your Ping sealed with a throw-away key: the peer will fail to read it, and that is what makes it ask who you are.',
      spec: { label: 'discv5-theory · Step 1', link: SPEC.step1 },
    },
    {
      id: 'step-through',
      goal: 'Walk the four packets yourself.',
      todo: 'Press Next → (or the → key) until the PONG arrives. Read each explanation first.',
      target: ['[data-lesson="next"]'],
      check: (c) => !!pong(c) && c.stepMode,
      why: 'random packet → WHOAREYOU → handshake → PONG: you have now seen every step of a discv5 handshake, and read it in the spec’s words.',
      spec: { label: 'discv5-theory · Step 5', link: SPEC.step5 },
    },
  ],
};

export default firstDiscv5;
