//! A classic-BPF interpreter over `struct seccomp_data`, the way the kernel
//! runs a seccomp filter, and a readable disassembly.

use crate::profile::Action;
use crate::Code;
use crate::{Error, Result};

/// One `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

/// Split program bytes into instructions.
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>> {
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(Error::new(
            Code::InvalidBpf,
            format!(
                "a bpf program is a multiple of 8 bytes, not {}",
                bytes.len()
            ),
        ));
    }
    if bytes.len() / 8 > 4096 {
        return Err(Error::new(
            Code::InvalidBpf,
            "a bpf program has at most 4096 instructions",
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// `struct seccomp_data`: what a filter sees of a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeccompData {
    /// System call number (for x32 with `__X32_SYSCALL_BIT`).
    pub nr: i32,
    /// `AUDIT_ARCH_*` value.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// Arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 64 bytes the filter loads from, in host byte order.
    pub fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;

/// The `AUDIT_ARCH_*` value of an OCI architecture name, where known.
pub fn audit_arch(scmp: &str) -> Option<u32> {
    Some(match scmp {
        "SCMP_ARCH_X86_64" | "SCMP_ARCH_X32" => AUDIT_ARCH_X86_64,
        "SCMP_ARCH_X86" => AUDIT_ARCH_I386,
        "SCMP_ARCH_AARCH64" => 0xc000_00b7,
        "SCMP_ARCH_ARM" => 0x4000_0028,
        _ => return None,
    })
}

/// Run a filter over `data` and return the 32-bit seccomp return value.
pub fn run(prog: &[Insn], data: &SeccompData) -> Result<u32> {
    let bytes = data.bytes();
    let bad =
        |pc: usize, what: &str| Error::new(Code::InvalidBpf, format!("instruction {pc}: {what}"));
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    // Classic BPF only jumps forward, so this terminates.
    while pc < prog.len() {
        let i = prog[pc];
        let k = i.k;
        let src = if i.code & 0x08 != 0 { x } else { k };
        match i.code & 0x07 {
            0x00 | 0x01 => {
                // LD / LDX
                let v = match i.code & 0xe0 {
                    0x00 => k,
                    0x20 => {
                        // ABS: seccomp allows only aligned 32-bit loads
                        if i.code & 0x18 != 0 || k % 4 != 0 || k as usize + 4 > 64 {
                            return Err(bad(
                                pc,
                                "only aligned 32-bit loads from seccomp_data are allowed",
                            ));
                        }
                        let o = k as usize;
                        u32::from_ne_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
                    }
                    0x60 => *mem
                        .get(k as usize)
                        .ok_or_else(|| bad(pc, "scratch index out of range"))?,
                    0x80 => 64,
                    _ => return Err(bad(pc, &format!("unsupported load mode {:#x}", i.code))),
                };
                if i.code & 0x07 == 0 {
                    a = v
                } else {
                    x = v
                }
            }
            0x02 => {
                *mem.get_mut(k as usize)
                    .ok_or_else(|| bad(pc, "scratch index out of range"))? = a
            }
            0x03 => {
                *mem.get_mut(k as usize)
                    .ok_or_else(|| bad(pc, "scratch index out of range"))? = x
            }
            0x04 => {
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a
                        .checked_div(src)
                        .ok_or_else(|| bad(pc, "division by zero"))?,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a
                        .checked_rem(src)
                        .ok_or_else(|| bad(pc, "division by zero"))?,
                    0xa0 => a ^ src,
                    _ => return Err(bad(pc, &format!("unknown alu op {:#x}", i.code))),
                }
            }
            0x05 => {
                let off = match i.code & 0xf0 {
                    0x00 => k as usize,
                    op => {
                        let t = match op {
                            0x10 => a == src,
                            0x20 => a > src,
                            0x30 => a >= src,
                            0x40 => a & src != 0,
                            _ => return Err(bad(pc, &format!("unknown jump {:#x}", i.code))),
                        };
                        if t {
                            i.jt as usize
                        } else {
                            i.jf as usize
                        }
                    }
                };
                pc += off;
            }
            0x06 => {
                return Ok(match i.code & 0x18 {
                    0x00 => k,
                    0x10 => a,
                    _ => return Err(bad(pc, "unknown return source")),
                })
            }
            _ => {
                if i.code & 0xf8 == 0x80 {
                    a = x
                } else {
                    x = a
                }
            }
        }
        pc += 1;
    }
    Err(bad(pc, "program ran off its end"))
}

/// Decode a seccomp return value into an action.
pub fn action_of(ret: u32) -> Action {
    let data = ret & 0xffff;
    match ret & 0xffff_0000 {
        0x8000_0000 => Action::KillProcess,
        0x0000_0000 => Action::KillThread,
        0x0003_0000 => Action::Trap,
        0x0005_0000 => Action::Errno(data),
        0x7fc0_0000 => Action::Notify,
        0x7ff0_0000 => Action::Trace(data),
        0x7ffc_0000 => Action::Log,
        0x7fff_0000 => Action::Allow,
        // The kernel treats unknown actions as kill_process.
        _ => Action::KillProcess,
    }
}

fn ret_text(k: u32) -> String {
    match action_of(k) {
        Action::Errno(n) => format!("ERRNO({n})"),
        Action::Trace(n) => format!("TRACE({n})"),
        a => a.oci_name().trim_start_matches("SCMP_ACT_").to_string(),
    }
}

fn field(k: u32) -> String {
    match k {
        0 => "nr".into(),
        4 => "arch".into(),
        8 => "ip.lo".into(),
        12 => "ip.hi".into(),
        16..=63 => {
            let i = (k - 16) / 8;
            format!("args[{i}].{}", if (k - 16) % 8 == 0 { "lo" } else { "hi" })
        }
        _ => format!("[{k}]"),
    }
}

/// A readable listing: one line an instruction with its index, the
/// mnemonic, jump targets as absolute indexes, and what loads read and
/// returns mean.
pub fn disassemble(prog: &[Insn]) -> String {
    let mut out = String::new();
    for (pc, i) in prog.iter().enumerate() {
        let k = i.k;
        let src = if i.code & 0x08 != 0 {
            "x".to_string()
        } else {
            format!("{k:#x}")
        };
        let text = match i.code & 0x07 {
            0x00 | 0x01 => {
                let reg = if i.code & 0x07 == 0 { "ld" } else { "ldx" };
                match i.code & 0xe0 {
                    0x00 => format!("{reg:<5} #{k:#x}"),
                    0x20 => format!("{reg:<5} [{k}]{:>16}; {}", "", field(k)),
                    0x60 => format!("{reg:<5} M[{k}]"),
                    0x80 => format!("{reg:<5} #len"),
                    _ => format!("{reg:<5} ?{:#x}", i.code),
                }
            }
            0x02 => format!("st    M[{k}]"),
            0x03 => format!("stx   M[{k}]"),
            0x04 => {
                let op = [
                    "add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor",
                ]
                .get((i.code >> 4) as usize)
                .copied()
                .unwrap_or("alu?");
                if op == "neg" {
                    "neg".into()
                } else {
                    format!("{op:<5} {src}")
                }
            }
            0x05 => match i.code & 0xf0 {
                0x00 => format!("ja    {}", pc + 1 + k as usize),
                op => {
                    let name = match op {
                        0x10 => "jeq",
                        0x20 => "jgt",
                        0x30 => "jge",
                        0x40 => "jset",
                        _ => "j?",
                    };
                    format!(
                        "{name:<5} {src:<12} true:{:<5} false:{}",
                        pc + 1 + i.jt as usize,
                        pc + 1 + i.jf as usize
                    )
                }
            },
            0x06 => match i.code & 0x18 {
                0x10 => "ret   a".into(),
                _ => format!("ret   #{k:#010x}{:>8}; {}", "", ret_text(k)),
            },
            _ => {
                if i.code & 0xf8 == 0x80 {
                    "txa".into()
                } else {
                    "tax".into()
                }
            }
        };
        out.push_str(&format!("{pc:04}: {text}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    #[test]
    fn runs_a_hand_written_filter() {
        // if (arch != x86_64) kill; if (nr == 39) errno(7); if (args[0].lo & 8) trap; allow
        let prog = vec![
            ins(0x20, 0, 0, 4),
            ins(0x15, 1, 0, AUDIT_ARCH_X86_64),
            ins(0x06, 0, 0, 0x8000_0000),
            ins(0x20, 0, 0, 0),
            ins(0x15, 0, 1, 39),
            ins(0x06, 0, 0, 0x0005_0007),
            ins(0x20, 0, 0, 16),
            ins(0x45, 0, 1, 8),
            ins(0x06, 0, 0, 0x0003_0000),
            ins(0x06, 0, 0, 0x7fff_0000),
        ];
        let d = |nr, arch, a0| SeccompData {
            nr,
            arch,
            args: [a0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        assert_eq!(
            action_of(run(&prog, &d(39, AUDIT_ARCH_X86_64, 0)).unwrap()),
            Action::Errno(7)
        );
        assert_eq!(
            action_of(run(&prog, &d(1, AUDIT_ARCH_X86_64, 9)).unwrap()),
            Action::Trap
        );
        assert_eq!(
            action_of(run(&prog, &d(1, AUDIT_ARCH_X86_64, 1)).unwrap()),
            Action::Allow
        );
        assert_eq!(
            action_of(run(&prog, &d(1, AUDIT_ARCH_I386, 1)).unwrap()),
            Action::KillProcess
        );
        let text = disassemble(&prog);
        assert!(text.contains("0001: jeq   0xc000003e"), "{text}");
        assert!(text.contains("ERRNO(7)"), "{text}");
        assert!(text.contains("; args[0].lo"), "{text}");
    }

    #[test]
    fn rejects_bad_programs() {
        assert_eq!(decode(&[0; 7]).unwrap_err().code, Code::InvalidBpf.as_str());
        let prog = vec![ins(0x20, 0, 0, 2)];
        assert!(run(&prog, &SeccompData::default()).is_err());
        let prog = vec![ins(0x20, 0, 0, 0)];
        assert!(run(&prog, &SeccompData::default())
            .unwrap_err()
            .message
            .contains("ran off"));
    }
}
