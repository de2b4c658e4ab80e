import { call } from './errors';
import { native } from './native';
import type { CallInput, CompileOptions, OciSeccomp, ParseOptions, Program, ResolveOptions, Verdict } from './options';

function target(o?: ResolveOptions) {
  return o ? { caps: o.caps, arch: o.arch, kernel: o.kernel } : undefined;
}

function text(json: object | string): string {
  return typeof json === 'string' ? json : JSON.stringify(json);
}

/** Bumped by {@link clearCache}: programs a profile remembers from before are stale. */
let cacheGeneration = 0;

/** A copy the caller may change without touching the remembered program. */
function copyProgram(p: Program, cache: Program['cache']): Program {
  return { bpf: Buffer.from(p.bpf), flags: p.flags, warnings: [...p.warnings], hash: p.hash, cache };
}

function toProgram(p: { bpf: Buffer; flags: number; warnings: string[]; hash: string; cache: string }): Program {
  return { bpf: p.bpf, flags: p.flags, warnings: p.warnings, hash: p.hash, cache: p.cache as Program['cache'] };
}

/**
 * A seccomp profile in OCI form (Docker profiles are resolved into OCI
 * when parsed). Immutable; {@link json} is the canonical OCI object.
 */
export class Profile {
  /** The canonical OCI `linux.seccomp` object. */
  readonly json: OciSeccomp;
  readonly #text: string;
  /** Programs compiled from this profile, by options (see compileSync). */
  readonly #programs = new Map<string, { generation: number; program: Program }>();

  private constructor(canonical: string) {
    this.#text = canonical;
    this.json = JSON.parse(canonical) as OciSeccomp;
  }

  /**
   * Parse a profile (object or JSON text). Docker's format is recognised
   * and resolved for `caps`, `arch` and `kernel`. Throws a
   * {@link SeccompError} whose `code` is `ESECCOMP_*` and whose `path` is
   * the JSON path of the field at fault (`syscalls[3].args[0].op`).
   */
  static parse(json: object | string, options: ParseOptions = {}): Profile {
    return new Profile(call(() => native.parseProfile(text(json), options.format ?? 'auto', target(options))));
  }

  /** Parse an OCI `linux.seccomp` object. */
  static fromOCI(json: OciSeccomp | string): Profile {
    return Profile.parse(json, { format: 'oci' });
  }

  /** Parse a Docker profile, resolved as Docker does for `resolve` (default caps, host arch and kernel). */
  static fromDocker(json: object | string, resolve: ResolveOptions = {}): Profile {
    return Profile.parse(json, { ...resolve, format: 'docker' });
  }

  /**
   * The built-in default profile: Docker's default, resolved for `resolve`
   * (Docker's default capabilities, host arch and kernel unless given).
   */
  static default(resolve: ResolveOptions = {}): Profile {
    return new Profile(call(() => native.builtinProfile(target(resolve))));
  }

  /** The canonical OCI JSON. */
  toJSON(): OciSeccomp {
    return this.json;
  }

  /** Compile off the main thread (through the cache). */
  compile(options: CompileOptions = {}): Promise<Program> {
    return call(() => native.compile(this.#text, options.binaryTree ?? true, options.cacheDir, options.arch)).then(toProgram);
  }

  /**
   * Compile on the calling thread (through the cache). A profile remembers
   * its own programs, so compiling it again skips even the native cache's
   * parse and hash of the whole profile (until {@link clearCache}).
   */
  compileSync(options: CompileOptions = {}): Program {
    const key = `${options.binaryTree ?? true}\0${options.cacheDir ?? ''}\0${options.arch ?? ''}`;
    const hit = this.#programs.get(key);
    if (hit && hit.generation === cacheGeneration) return copyProgram(hit.program, 'memory');
    const program = toProgram(call(() => native.compileSync(this.#text, options.binaryTree ?? true, options.cacheDir, options.arch)));
    this.#programs.set(key, { generation: cacheGeneration, program: copyProgram(program, program.cache) });
    return program;
  }

  /**
   * What the compiled filter does with a call, found by interpreting the
   * BPF over the `seccomp_data` the kernel would build, and the rule that
   * decided it.
   */
  evaluate(input: CallInput): Verdict {
    const args = (input.args ?? []).map((a) => BigInt(a));
    const v = call(() => native.evaluate(this.#text, true, { syscall: String(input.syscall), args, arch: input.arch ?? 'x86_64' }));
    const out: Verdict = { action: v.action as Verdict['action'], ret: v.ret, rule: v.rule ?? null, nr: v.nr, name: v.name ?? null };
    if (v.action === 'errno') out.errno = v.data ?? undefined;
    if (v.action === 'trace') out.traceData = v.data ?? undefined;
    return out;
  }

  /** A readable listing of the compiled program. */
  disassemble(options: CompileOptions = {}): string {
    return disassemble(this.compileSync(options).bpf);
  }
}

/** Compile a profile (or OCI/Docker JSON) off the main thread. */
export function compile(profile: Profile | object | string, options: CompileOptions = {}): Promise<Program> {
  const p = profile instanceof Profile ? profile : Profile.parse(profile);
  return p.compile(options);
}

/** Disassemble `struct sock_filter[]` bytes into a readable listing. */
export function disassemble(bpf: Uint8Array): string {
  return call(() => native.disassemble(Buffer.from(bpf.buffer, bpf.byteOffset, bpf.byteLength)));
}

/** Every system call name libseccomp knows on an architecture. */
export function syscallNames(arch: 'x86_64' | 'x86' | 'x32' = 'x86_64'): string[] {
  return call(() => native.syscallNames(arch));
}

/** The libseccomp version compiled in. */
export function libseccompVersion(): string {
  return native.libseccompVersion();
}

/** Drop the in-memory cache of compiled programs. */
export function clearCache(): void {
  cacheGeneration++;
  native.clearCache();
}

/** Docker's default profile (Docker format) as shipped inside this package. */
export function dockerDefault(): object {
  return JSON.parse(native.dockerDefaultJson()) as object;
}
