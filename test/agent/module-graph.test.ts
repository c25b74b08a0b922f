/**
 * The agent loads only what it needs: its import graph, read from the built JavaScript that
 * devices run, reaches none of the collector's modules or packages, and mqtt.js only through a
 * dynamic import (loaded when a flow subscribes to MQTT).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/collector-process.js';

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
const dynamicImportPattern = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

interface ImportGraph {
  files: Set<string>;
  /** Packages imported statically by a reached file. */
  staticPackages: Set<string>;
  /** Packages reached only through `import('…')`. */
  dynamicPackages: Set<string>;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Follows static imports from `entry`; dynamic imports are recorded, not followed. */
function importGraph(entry: string): ImportGraph {
  const graph: ImportGraph = { files: new Set(), staticPackages: new Set(), dynamicPackages: new Set() };
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else graph.staticPackages.add(packageOf(specifier));
    }
    for (const match of source.matchAll(dynamicImportPattern)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.')) graph.dynamicPackages.add(packageOf(specifier));
      else graph.dynamicPackages.add(relative(join(projectRoot, 'dist'), resolve(dirname(file), specifier)));
    }
  }
  return graph;
}

describe('the agent import graph', () => {
  const entry = join(projectRoot, 'dist', 'agent', 'main.js');

  it('reaches no collector module and none of its packages', () => {
    expect(existsSync(entry), 'run tsc first').toBe(true);
    const graph = importGraph(entry);
    expect(graph.files.size).toBeGreaterThan(20);
    const collectorFiles = [...graph.files].filter((file) => relative(projectRoot, file).startsWith(join('dist', 'collector')));
    expect(collectorFiles).toEqual([]);
    for (const collectorPackage of ['level', 'classic-level', 'aedes', 'aedes-persistence-level', 'ws', 'snappyjs']) {
      expect(graph.staticPackages).not.toContain(collectorPackage);
    }
  });

  it('loads mqtt.js only on demand', () => {
    const graph = importGraph(entry);
    expect(graph.staticPackages).not.toContain('mqtt');
    expect(graph.dynamicPackages).toContain(join('agent', 'sources', 'mqtt.js'));
    expect(graph.staticPackages).toContain('chokidar');
  });
});
