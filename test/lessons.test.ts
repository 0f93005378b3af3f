// Lessons are a registry feature: every protocol lists at least one, its steps load, and every
// step has a goal, what to do with a control to highlight, a checkpoint, a why and a spec link.
// The checkpoints read only what the learner did: shown here on made-up page states.
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../web/protocols/registry.ts';
import type { LessonContext } from '../web/lessons/types.ts';
import type { RecordView } from '../web/protocols/types.ts';

const record = (seq: number, r: Partial<RecordView>): RecordView => ({ seq, direction: 'in', at: seq, peer: { ip: '127.0.0.1', port: 1 }, raw: new Uint8Array(0), ...r });
const base: LessonContext = { protocol: 'discv5', view: 'live', stepMode: false, tab: 'packet', records: [], since: [] };

describe('lessons in the registry', () => {
  it('every protocol has a lesson; each step is complete; exactly one is offered first', async () => {
    const entries = Object.values(PROTOCOLS).flatMap((p) => p.lessons.map((e) => ({ p, e })));
    for (const p of Object.values(PROTOCOLS)) expect(p.lessons.length, p.id).toBeGreaterThanOrEqual(1);
    expect(entries.filter(({ e }) => e.first).map(({ e }) => e.id)).toEqual(['discv5-first-handshake']);
    for (const { p, e } of entries) {
      const lesson = await e.load();
      expect(lesson.id).toBe(e.id);
      expect(lesson.protocol).toBe(p.id);
      expect(new Set(lesson.steps.map((s) => s.id)).size).toBe(lesson.steps.length);
      for (const s of lesson.steps) {
        expect(s.goal && s.todo && s.why, `${e.id}/${s.id}`).toBeTruthy();
        expect(s.target.length).toBeGreaterThan(0);
        expect(s.spec.link).toMatch(/^https:\/\//);
        // Nothing done yet: no checkpoint is reached.
        expect(s.check(base), `${e.id}/${s.id}`).not.toBe(true);
      }
    }
  });

  it('discv5: checkpoints follow what was done, and a wrong answer gets a hint', async () => {
    const lesson = await PROTOCOLS.discv5.lessons[0].load();
    const step = (id: string) => lesson.steps.find((s) => s.id === id)!;
    const pong = record(4, { kind: 'ordinary', message: { type: 'PONG' } });
    expect(step('ping').check({ ...base, records: [pong], since: [pong] })).toBe(true);
    // A PONG from before the step began does not count.
    expect(step('ping').check({ ...base, records: [pong], since: [] })).toBe(false);
    const whoareyou = record(2, { kind: 'WHOAREYOU' });
    expect(step('whoareyou').check({ ...base, selected: pong })).toMatchObject({ hint: expect.stringContaining('orange') });
    expect(step('whoareyou').check({ ...base, selected: whoareyou })).toBe(true);
    expect(step('id-nonce').check({ ...base, selected: whoareyou, field: { name: 'enr-seq', layer: 'authdata' } })).toMatchObject({ hint: expect.stringContaining('enr-seq') });
    expect(step('id-nonce').check({ ...base, selected: whoareyou, field: { name: 'id-nonce', layer: 'authdata' } })).toBe(true);
    expect(step('which-key').check({ ...base, pickedKey: 'initiator-key' })).toMatchObject({ hint: expect.any(String) });
    expect(step('which-key').check({ ...base, pickedKey: 'recipient-key' })).toBe(true);
    const held = record(5, { direction: 'out', kind: 'random', held: true });
    expect(step('step-ping').check({ ...base, stepMode: true, records: [held], since: [held] })).toBe(true);
    expect(step('step-through').check({ ...base, stepMode: true, since: [held] })).toBe(false);
  });
});
