# Generates an unrolled Keccak-f[1600] on 32-bit lane halves (TypeScript).
def rc_bit(t):
    if t % 255 == 0: return 1
    R = 1
    for _ in range(t % 255):
        R <<= 1
        if R & 0x100: R ^= 0x171
    return R & 1
RC = []
for ir in range(24):
    v = 0
    for j in range(7):
        if rc_bit(j + 7*ir): v |= 1 << ((1 << j) - 1)
    RC.append(v)
rot = [[0]*5 for _ in range(5)]
x, y = 1, 0
for t in range(24):
    rot[x][y] = ((t+1)*(t+2)//2) % 64
    x, y = y, (2*x + 3*y) % 5
assert RC[0] == 1 and RC[1] == 0x8082 and RC[23] == 0x8000000080008008, hex(RC[23])
assert rot[1][0] == 1 and rot[2][0] == 62 and rot[4][4] == 14 and rot[0][1] == 36
def idx(x, y): return x + 5*y
L = lambda i: f"a{i}l"
H = lambda i: f"a{i}h"
out = []
w = out.append
w("// Keccak-f[1600], unrolled on 32-bit lane halves (generated from FIPS 202: rotation offsets and")
w("// round constants computed by tools/gen-keccak-f.py, not copied). Lane i is words 2i (low) and 2i+1 (high)")
w("// of the state, little-endian, as a Uint32Array over the 200-byte state reads it.")
w("const RC_LO = Uint32Array.of(" + ", ".join(hex(v & 0xffffffff) for v in RC) + ");")
w("const RC_HI = Uint32Array.of(" + ", ".join(hex(v >> 32) for v in RC) + ");")
w("")
w("export function keccakF1600(s: Uint32Array): void {")
w("  let " + ", ".join(f"{L(i)} = s[{2*i}], {H(i)} = s[{2*i+1}]" for i in range(25)) + ";")
w("  for (let round = 0; round < 24; round++) {")
# theta
for xx in range(5):
    w(f"    const c{xx}l = " + " ^ ".join(L(idx(xx, yy)) for yy in range(5)) + ";")
    w(f"    const c{xx}h = " + " ^ ".join(H(idx(xx, yy)) for yy in range(5)) + ";")
for xx in range(5):
    p, n = (xx - 1) % 5, (xx + 1) % 5
    w(f"    const d{xx}l = c{p}l ^ ((c{n}l << 1) | (c{n}h >>> 31));")
    w(f"    const d{xx}h = c{p}h ^ ((c{n}h << 1) | (c{n}l >>> 31));")
    for yy in range(5):
        i = idx(xx, yy)
        w(f"    {L(i)} ^= d{xx}l; {H(i)} ^= d{xx}h;")
# rho + pi: B[y, 2x+3y] = rot(A[x,y], r[x][y])
for xx in range(5):
    for yy in range(5):
        i = idx(xx, yy)
        bx, by = yy, (2*xx + 3*yy) % 5
        j = idx(bx, by)
        r = rot[xx][yy]
        lo, hi = L(i), H(i)
        if r == 0:
            el, eh = lo, hi
        elif r < 32:
            el = f"({lo} << {r}) | ({hi} >>> {32-r})"
            eh = f"({hi} << {r}) | ({lo} >>> {32-r})"
        elif r == 32:
            el, eh = hi, lo
        else:
            m = r - 32
            el = f"({hi} << {m}) | ({lo} >>> {32-m})"
            eh = f"({lo} << {m}) | ({hi} >>> {32-m})"
        w(f"    const b{j}l = {el};")
        w(f"    const b{j}h = {eh};")
# chi
for yy in range(5):
    for xx in range(5):
        i = idx(xx, yy); i1 = idx((xx+1) % 5, yy); i2 = idx((xx+2) % 5, yy)
        w(f"    {L(i)} = b{i}l ^ (~b{i1}l & b{i2}l);")
        w(f"    {H(i)} = b{i}h ^ (~b{i1}h & b{i2}h);")
# iota
w("    a0l ^= RC_LO[round];")
w("    a0h ^= RC_HI[round];")
w("  }")
for i in range(25):
    w(f"  s[{2*i}] = {L(i)};")
    w(f"  s[{2*i+1}] = {H(i)};")
w("}")
open('shared/crypto/keccak-f.ts', 'w').write("\n".join(out) + "\n")
print(len(out), "lines")
