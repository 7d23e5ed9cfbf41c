import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..');
const SECTION = "## Using it with Nest's Redis integrations";

/** The ```ts blocks of the README's section on the integrations, in order. */
function examples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${SECTION}\n`);
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + SECTION.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/**
 * Type-checks `sources` as files of the repository's test folder, with the repository's compiler options (its
 * `paths` map `nestjs-persistent-cache` and its subpaths to lib/, as the package's exports map them to dist/).
 */
function typeCheck(sources: readonly string[]): string[] {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = new Map(
    sources.map((text, i) => [join(ROOT, 'test', `readme-example-${i + 1}.ts`), text]),
  );
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const text = files.get(name);
    return text === undefined
      ? getSourceFile(name, version, ...rest)
      : ts.createSourceFile(name, text, version, true);
  };
  host.fileExists = (name) => files.has(name) || fileExists(name);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true }, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    );
}

describe("the README's examples for Nest's Redis integrations", () => {
  it('are there, one each for cache-manager, the throttler and express-session', () => {
    const blocks = examples();
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toContain("from 'nestjs-persistent-cache/keyv'");
    expect(blocks[1]).toContain("from 'nestjs-persistent-cache/throttler'");
    expect(blocks[2]).toContain("from 'connect-redis'");
  });

  it('compile against the library as it is', () => {
    expect(typeCheck(examples())).toEqual([]);
  }, 120_000);
});
