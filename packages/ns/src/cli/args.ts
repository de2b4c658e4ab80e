// A small getopt for the util-linux look-alike command lines.

/** One option: its names and whether it takes a value (`'optional'`: `--net[=FILE]`). */
export interface OptSpec {
  /** Long name without dashes. */
  long: string;
  /** Short letter, if any. */
  short?: string;
  /** Takes a value. */
  value?: boolean | 'optional';
}

/** Parsed options (last one wins) and the command with its arguments. */
export interface Parsed {
  /** Values by long name (`true` for flags). */
  opts: Map<string, string | true>;
  /** The command and its arguments. */
  rest: string[];
}

/** Parse `argv` (without node and script); stops at the first non-option. */
export function parseArgs(argv: string[], specs: OptSpec[]): Parsed {
  const opts = new Map<string, string | true>();
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(msg);
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = specs.find((s) => s.long === name) ?? fail(`unrecognized option '--${name}'`);
      if (spec.value === true) opts.set(spec.long, inline ?? argv[++i] ?? fail(`option '--${name}' requires an argument`));
      else if (spec.value === 'optional') opts.set(spec.long, inline ?? true);
      else if (inline !== undefined) fail(`option '--${name}' doesn't allow an argument`);
      else opts.set(spec.long, true);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const spec = specs.find((s) => s.short === a[j]) ?? fail(`invalid option -- '${a[j]}'`);
        if (spec.value === true) {
          const v = a.slice(j + 1) || argv[++i] || fail(`option requires an argument -- '${a[j]}'`);
          opts.set(spec.long, v);
          break;
        }
        if (spec.value === 'optional' && a.length > j + 1) {
          opts.set(spec.long, a.slice(j + 1));
          break;
        }
        opts.set(spec.long, true);
      }
      continue;
    }
    break;
  }
  return { opts, rest: argv.slice(i) };
}
