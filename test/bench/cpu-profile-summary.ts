/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks where the time went, as a
 * share of all sampled time:
 * - functions by self time (what the CPU was executing);
 * - project functions, each charged also with the Node and native code it called — the view
 *   that names the line of ours to change when the self time sits in `node:buffer` or in C++;
 * - files by self time.
 * Run on its own as `node dist/test/bench/cpu-profile-summary.js FILE.cpuprofile [TOP]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MonotonicWindow } from './cpu-sampling.js';

/** The checkout, from this file's place in it once built: dist/test/bench/. */
const checkoutRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** CLOCK_MONOTONIC microseconds, as `process.hrtime` in any process on the machine. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  location: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: HotSpot[];
  projectFunctions: HotSpot[];
  files: HotSpot[];
}

interface FrameLabel {
  name: string;
  /** `file:line`, the file relative to the checkout; empty for VM states such as (garbage collector). */
  location: string;
  file: string;
  inProject: boolean;
}

/** Time of the samples taken within `windows` (the profile's clock is CLOCK_MONOTONIC), or of all of them. */
export function summarizeCpuProfile(path: string, windows?: MonotonicWindow[]): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const labels = new FrameLabels(profile.nodes);
  const byFunction = new Tally();
  const byProjectFunction = new Tally();
  const byFile = new Tally();
  let totalUs = 0;
  let sampledAtUs = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    sampledAtUs += profile.timeDeltas[index] ?? 0;
    // timeDeltas[i] is the time from sample i-1 to sample i; as in Chrome DevTools, a sample
    // stands for the interval until the next one — counted only where it overlaps the windows,
    // since a process that was SIGSTOPped leaves one sample standing for the whole pause.
    const interval = { startUs: sampledAtUs, endUs: sampledAtUs + (profile.timeDeltas[index + 1] ?? 0) };
    const us = windows === undefined ? interval.endUs - interval.startUs : windows.reduce((sum, window) => sum + overlapUs(interval, window), 0);
    if (us <= 0) return;
    totalUs += us;
    const self = labels.of(nodeId);
    byFunction.add(self.name, self.location, us);
    byFile.add(self.file === '' ? self.name : self.file, '', us);
    const owner = labels.nearestProjectFrame(nodeId) ?? self;
    byProjectFunction.add(owner.name, owner.location, us);
  });
  return {
    totalMs: totalUs / 1000,
    functions: byFunction.ranked(totalUs),
    projectFunctions: byProjectFunction.ranked(totalUs),
    files: byFile.ranked(totalUs),
  };
}

function overlapUs(a: MonotonicWindow, b: MonotonicWindow): number {
  return Math.max(0, Math.min(a.endUs, b.endUs) - Math.max(a.startUs, b.startUs));
}

export function formatProfileSummary(summary: ProfileSummary, top: number): string {
  const row = (spot: HotSpot) => `${spot.percent.toFixed(1).padStart(6)}%  ${spot.ms.toFixed(0).padStart(7)} ms  ${spot.name}${spot.location ? `  ${spot.location}` : ''}`;
  return [
    `sampled ${summary.totalMs.toFixed(0)} ms`,
    `top ${top} functions by self time:`,
    ...summary.functions.slice(0, top).map(row),
    `top ${top} project functions, with the Node and native code they call:`,
    ...summary.projectFunctions.slice(0, top).map(row),
    `top ${top} files by self time:`,
    ...summary.files.slice(0, top).map(row),
  ].join('\n');
}

class Tally {
  private readonly entries = new Map<string, { name: string; location: string; us: number }>();

  add(name: string, location: string, us: number): void {
    const key = `${name}@${location}`;
    const entry = this.entries.get(key) ?? { name, location, us: 0 };
    entry.us += us;
    this.entries.set(key, entry);
  }

  ranked(totalUs: number): HotSpot[] {
    return [...this.entries.values()]
      .map(({ name, location, us }) => ({ name, location, ms: us / 1000, percent: totalUs === 0 ? 0 : (100 * us) / totalUs }))
      .sort((a, b) => b.ms - a.ms);
  }
}

/** Labels of profile nodes, mapped through tsc's source maps to .ts files and lines. */
class FrameLabels {
  private readonly nodesById: Map<number, ProfileNode>;
  private readonly parentIds = new Map<number, number>();
  private readonly labels = new Map<number, FrameLabel>();
  private readonly projectOwners = new Map<number, FrameLabel | undefined>();
  private readonly sourceMaps = new Map<string, SourceMap | undefined>();

  constructor(nodes: ProfileNode[]) {
    this.nodesById = new Map(nodes.map((node) => [node.id, node]));
    for (const node of nodes) for (const child of node.children ?? []) this.parentIds.set(child, node.id);
  }

  of(nodeId: number): FrameLabel {
    let label = this.labels.get(nodeId);
    if (label === undefined) {
      label = this.describe(nodeId);
      this.labels.set(nodeId, label);
    }
    return label;
  }

  /** The innermost frame on the sample's stack that is our own code. */
  nearestProjectFrame(nodeId: number): FrameLabel | undefined {
    if (this.projectOwners.has(nodeId)) return this.projectOwners.get(nodeId);
    const label = this.of(nodeId);
    const parentId = this.parentIds.get(nodeId);
    const owner = label.inProject ? label : parentId === undefined ? undefined : this.nearestProjectFrame(parentId);
    this.projectOwners.set(nodeId, owner);
    return owner;
  }

  private describe(nodeId: number): FrameLabel {
    const { callFrame } = this.nodesById.get(nodeId)!;
    // V8 shows native code it has no name for (such as the C++ under `Buffer.from`) as a
    // nameless frame without a script: it is labelled by the JS function that called it.
    if (callFrame.functionName === '' && callFrame.url === '') {
      const parentId = this.parentIds.get(nodeId);
      if (parentId === undefined) return { name: '(native)', location: '', file: '', inProject: false };
      const caller = this.of(parentId);
      return { ...caller, name: `(native, called by ${caller.name})`, inProject: false };
    }
    const name = callFrame.functionName || '(anonymous)';
    if (callFrame.url === '') return { name, location: '', file: '', inProject: false };
    if (!callFrame.url.startsWith('file://')) return { name, location: `${callFrame.url}:${callFrame.lineNumber + 1}`, file: callFrame.url, inProject: false };
    const { file, line } = this.sourceLine(fileURLToPath(callFrame.url), callFrame);
    return { name, location: `${file}:${line}`, file, inProject: !file.startsWith('..') && !file.includes('node_modules') };
  }

  private sourceLine(jsPath: string, frame: CallFrame): { file: string; line: number } {
    if (!this.sourceMaps.has(jsPath)) this.sourceMaps.set(jsPath, loadSourceMap(jsPath));
    const entry = this.sourceMaps.get(jsPath)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry !== undefined && 'originalSource' in entry) {
      const original = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(jsPath), entry.originalSource);
      return { file: relative(checkoutRoot, original), line: entry.originalLine + 1 };
    }
    return { file: relative(checkoutRoot, jsPath), line: frame.lineNumber + 1 };
  }
}

function loadSourceMap(jsPath: string): SourceMap | undefined {
  const mapPath = `${jsPath}.map`;
  return existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : undefined;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top = '25'] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: cpu-profile-summary.js FILE.cpuprofile [TOP]');
  process.stdout.write(`${formatProfileSummary(summarizeCpuProfile(file), Number(top))}\n`);
}
