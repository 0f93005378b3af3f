// shared/ runs unchanged in the browser: no Node built-in modules, no Node-only globals.
// Files are parsed with the TypeScript compiler, so comments and strings never trip the check.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SHARED = fileURLToPath(new URL('../shared/', import.meta.url));
const BUILTINS = new Set(builtinModules);
/** Packages that only work on Node (they import built-ins themselves). */
const NODE_ONLY_PACKAGES = new Set(['ws']);
const NODE_GLOBALS = new Set(['Buffer', 'process', 'require', '__dirname', '__filename', 'global', 'setImmediate']);

function isNodeModule(spec: string): boolean {
  if (spec.startsWith('node:')) return true;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  return BUILTINS.has(spec) || BUILTINS.has(name) || NODE_ONLY_PACKAGES.has(name);
}

/** Every Node-only import or global a source text uses, as "line: what". */
function nodeApiUses(source: string, fileName = 'x.ts'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const where = (n: ts.Node) => `${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  // A name the file declares itself (a parameter called `process`) is not the Node global.
  const declared = new Set<string>();
  const collect = (n: ts.Node): void => {
    const name = (n as { name?: ts.Node }).name;
    if (name && ts.isIdentifier(name) && (ts.isVariableDeclaration(n) || ts.isParameter(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isImportSpecifier(n) || ts.isBindingElement(n)))
      declared.add(name.text);
    if (ts.isImportClause(n) && n.name) declared.add(n.name.text);
    if (ts.isNamespaceImport(n)) declared.add(n.name.text);
    ts.forEachChild(n, collect);
  };
  collect(sf);
  const checkSpec = (lit: ts.Node | undefined, n: ts.Node) => {
    if (lit && ts.isStringLiteralLike(lit) && isNodeModule(lit.text)) found.push(`${where(n)}: imports "${lit.text}"`);
  };
  const isPropertyName = (id: ts.Identifier): boolean => {
    const p = id.parent;
    if (ts.isPropertyAccessExpression(p) && p.name === id) {
      // globalThis.process is the global itself.
      return !(ts.isIdentifier(p.expression) && ['globalThis', 'window', 'self'].includes(p.expression.text));
    }
    return (
      ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p) || ts.isEnumMember(p)) && p.name === id) ||
      (ts.isQualifiedName(p) && p.right === id) ||
      (ts.isBindingElement(p) && p.propertyName === id) ||
      ts.isLabeledStatement(p)
    );
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) checkSpec(n.moduleSpecifier, n);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) checkSpec(n.moduleReference.expression, n);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) checkSpec(n.arguments[0], n);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) checkSpec(n.argument.literal, n);
    else if (ts.isIdentifier(n) && NODE_GLOBALS.has(n.text) && !declared.has(n.text) && !isPropertyName(n)) found.push(`${where(n)}: uses ${n.text}`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => join(dir, f));
}

describe('shared/ is isomorphic', () => {
  it('the checker finds what it must and ignores comments, strings and property names', () => {
    const bad = [
      "import { readFileSync } from 'node:fs';",
      "import * as net from 'net';",
      "export { promises } from 'fs/promises';",
      "import dgram = require('dgram');",
      "const c = await import('crypto');",
      "type B = import('buffer').Blob;",
      "import WebSocket from 'ws';",
      'const b = Buffer.from([1]);',
      'const e = process.env.X;',
      'const g = globalThis.process;',
      'let t: Buffer;',
    ];
    for (const line of bad) expect(nodeApiUses(line), line).toHaveLength(1);
    const clean = [
      "// we process the Buffer here, see node:fs\nconst s = 'process Buffer node:net';",
      'const o = { process: 1, Buffer: 2 }; o.process = o.Buffer;',
      'function run(process: number) { return process + 1; }',
      "import { hkdf } from '@noble/hashes/hkdf.js';\nimport { x } from './crypto.ts';",
      'interface T { process(): void }',
    ];
    for (const src of clean) expect(nodeApiUses(src), src).toEqual([]);
  });

  it('no file under shared/ imports a Node built-in or uses a Node-only global', () => {
    const files = tsFiles(SHARED);
    const names = files.map((f) => relative(SHARED, f).split('\\').join('/'));
    expect(names).toContain('bytes.ts');
    expect(names).toContain('enr/enr.ts');
    const problems = files.flatMap((f) => nodeApiUses(readFileSync(f, 'utf8'), f).map((p) => `shared/${relative(SHARED, f)}:${p}`));
    expect(problems).toEqual([]);
  });
});
