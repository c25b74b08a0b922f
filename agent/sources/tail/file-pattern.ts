/**
 * `filePattern` as the Kinesis Agent reads it (SourceFile.java): an absolute path whose last
 * component is a Java `glob:` pattern and whose directory is literal — the agent watches one
 * directory per flow. Glob syntax (java.nio.file.FileSystem#getPathMatcher): `*` and `**` any
 * run of characters, `?` one character, `[abc]` / `[a-z]` / `[!abc]` one of (or none of) a
 * set, `{log,txt}` one of several alternatives (not nested), `\` escapes the next character;
 * a leading dot is an ordinary character.
 */
import { basename, dirname, isAbsolute, normalize } from 'node:path';
import { TailError, tailErrorCodes } from './errors.js';

export interface FilePattern {
  /** The directory that holds the files. */
  readonly directory: string;
  /** Whether a name in `directory` matches the glob. */
  matches(name: string): boolean;
}

const globCharacters = /[*?[{]/;

export function parseFilePattern(pattern: string): FilePattern {
  const invalid = (why: string) => new TailError(tailErrorCodes.invalidFilePattern, `filePattern ${JSON.stringify(pattern)}: ${why}`);
  if (!isAbsolute(pattern)) throw invalid('must be an absolute path');
  if (pattern.endsWith('/')) throw invalid('must end with a file name or glob, not "/"');
  const directory = dirname(normalize(pattern));
  const glob = basename(pattern);
  if (globCharacters.test(directory)) throw invalid('a glob is allowed only in the last path component (the agent watches one directory)');
  const regex = new RegExp(`^${globToRegexSource(glob, invalid)}$`, 'u');
  return { directory, matches: (name) => regex.test(name) };
}

function globToRegexSource(glob: string, invalid: (why: string) => Error): string {
  let source = '';
  let inGroup = false;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    switch (char) {
      case '\\': {
        const next = glob[++i];
        if (next === undefined) throw invalid('ends with an unfinished escape "\\"');
        source += escapeRegex(next);
        break;
      }
      case '*':
        while (glob[i + 1] === '*') i++;
        source += '.*';
        break;
      case '?':
        source += '.';
        break;
      case '[': {
        const end = glob.indexOf(']', i + 2);
        if (end === -1) throw invalid('has "[" without a closing "]"');
        let set = glob.slice(i + 1, end);
        const negated = set.startsWith('!');
        if (negated) set = set.slice(1);
        // Inside brackets every character is literal except a range's "-".
        const members = [...set].map((c) => (c === '-' ? '-' : escapeRegex(c))).join('');
        source += `[${negated ? '^' : ''}${members}]`;
        i = end;
        break;
      }
      case '{':
        if (inGroup) throw invalid('nested "{" groups are not supported (as in Java globs)');
        inGroup = true;
        source += '(?:';
        break;
      case '}':
        if (!inGroup) throw invalid('has "}" without an opening "{"');
        inGroup = false;
        source += ')';
        break;
      case ',':
        source += inGroup ? '|' : ',';
        break;
      default:
        source += escapeRegex(char);
    }
  }
  if (inGroup) throw invalid('has "{" without a closing "}"');
  return source;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
