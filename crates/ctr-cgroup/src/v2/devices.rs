//! v2 devices: the OCI device rules compiled to an eBPF program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE` and attached to the cgroup directory with
//! `BPF_F_ALLOW_MULTI`, replacing an earlier program atomically
//! (`BPF_F_REPLACE`) — the bpf(2) calls are made directly, and the
//! instructions generated here, in the manner of runc's devicefilter and
//! crun's ebpf.c.
//!
//! Semantics (the same as the v1 files): rules are evaluated last to first
//! and the first that matches decides; a request no rule matches is
//! allowed (a fresh v1 cgroup allows everything too), so a list meant to
//! be a whitelist starts with `{ allow: false, access: 'rwm' }`. An allow
//! rule matches when the requested access is a subset of its access; a
//! deny rule when the requested access shares a bit with its access.

use crate::resources::{DeviceRule, Resources};
use crate::Code;
use ctr_common::Error;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// dst (low nibble) and src (high nibble) registers.
    pub regs: u8,
    /// Offset (jumps: instructions to skip).
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const AND32_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RSH32_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const MOV32_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const MOV32_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// BPF_DEVCG_DEV_BLOCK / CHAR.
fn dev_type(kind: char) -> Option<i32> {
    match kind {
        'b' => Some(1),
        'c' => Some(2),
        _ => None,
    }
}

/// BPF_DEVCG_ACC_MKNOD | READ | WRITE bits of "rwm".
fn access_bits(access: &str) -> i32 {
    access
        .chars()
        .map(|c| match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

/// Compile rules to the program.
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    // r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx).
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND32_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH32_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    for rule in rules.iter().rev() {
        let mut block: Vec<Insn> = Vec::new();
        if let Some(t) = dev_type(rule.kind) {
            block.push(insn(JNE_K, 2, 0, 0, t));
        }
        let acc = access_bits(&rule.access);
        if acc != 7 {
            block.push(insn(MOV32_X, 1, 3, 0, 0));
            block.push(insn(AND32_K, 1, 0, 0, acc));
            if rule.allow {
                // requested must be a subset of the rule's access
                block.push(insn(JNE_X, 1, 3, 0, 0));
            } else {
                // any requested bit the rule denies
                block.push(insn(JEQ_K, 1, 0, 0, 0));
            }
        }
        if let Some(m) = rule.major {
            block.push(insn(JNE_K, 4, 0, 0, m as i32));
        }
        if let Some(m) = rule.minor {
            block.push(insn(JNE_K, 5, 0, 0, m as i32));
        }
        block.push(insn(MOV32_K, 0, 0, 0, rule.allow as i32));
        block.push(insn(EXIT, 0, 0, 0, 0));
        let n = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if matches!(ins.code, JNE_K | JNE_X | JEQ_K) {
                ins.off = (n - i - 1) as i16;
            }
        }
        p.extend(block);
        if n == 2 {
            // An unconditional rule decides everything: what would follow
            // is unreachable, which the verifier refuses.
            return p;
        }
    }
    p.push(insn(MOV32_K, 0, 0, 0, 1));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;
const BPF_F_REPLACE: u32 = 4;

fn bpf(cmd: libc::c_long, attr: &mut [u64]) -> Result<i64, i32> {
    // SAFETY: attr is a zeroed, 8-byte aligned buffer laid out as the
    // kernel's union bpf_attr for `cmd`; its size is passed along.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.as_mut_ptr(),
            std::mem::size_of_val(attr) as u32,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(r)
    }
}

fn set_u32(attr: &mut [u64], byte_off: usize, v: u32) {
    // SAFETY: byte_off + 4 is within attr (callers use fixed offsets of
    // small structs inside a 128-byte buffer).
    unsafe {
        (attr.as_mut_ptr() as *mut u8)
            .add(byte_off)
            .cast::<u32>()
            .write_unaligned(v)
    }
}

fn load(insns: &[Insn]) -> Result<OwnedFd, Error> {
    let license = b"Apache\0";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = [0u64; 16];
    set_u32(&mut attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE);
    set_u32(&mut attr, 4, insns.len() as u32);
    attr[1] = insns.as_ptr() as u64;
    attr[2] = license.as_ptr() as u64;
    set_u32(&mut attr, 24, 1); // log_level
    set_u32(&mut attr, 28, log.len() as u32);
    attr[4] = log.as_mut_ptr() as u64;
    set_u32(&mut attr, 68, BPF_CGROUP_DEVICE); // expected_attach_type
    match bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: the kernel returned a new fd that we now own.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
        Err(errno) => {
            let text =
                String::from_utf8_lossy(&log[..log.iter().position(|b| *b == 0).unwrap_or(0)])
                    .trim()
                    .to_string();
            let what = if text.is_empty() {
                "load device program".to_string()
            } else {
                format!(
                    "load device program (verifier: {})",
                    text.lines()
                        .rfind(|l| !l.starts_with("processed"))
                        .unwrap_or("")
                )
            };
            Err(Error::sys(Code::Bpf, "bpf", errno, what))
        }
    }
}

fn attached(cg: &OwnedFd) -> Result<Vec<u32>, Error> {
    let mut ids = vec![0u32; 64];
    let mut attr = [0u64; 8];
    set_u32(&mut attr, 0, cg.as_raw_fd() as u32);
    set_u32(&mut attr, 4, BPF_CGROUP_DEVICE);
    attr[2] = ids.as_mut_ptr() as u64;
    set_u32(&mut attr, 24, ids.len() as u32);
    bpf(BPF_PROG_QUERY, &mut attr)
        .map_err(|e| Error::sys(Code::Bpf, "bpf", e, "query attached device programs"))?;
    let cnt = (attr[3] & 0xffff_ffff) as usize;
    ids.truncate(cnt.min(64));
    Ok(ids)
}

fn fd_by_id(id: u32) -> Result<OwnedFd, Error> {
    let mut attr = [0u64; 2];
    set_u32(&mut attr, 0, id);
    let fd = bpf(BPF_PROG_GET_FD_BY_ID, &mut attr)
        .map_err(|e| Error::sys(Code::Bpf, "bpf", e, format!("get device program {id}")))?;
    // SAFETY: new fd owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn attach_cmd(
    cmd: libc::c_long,
    cg: &OwnedFd,
    prog: &OwnedFd,
    flags: u32,
    replace: Option<&OwnedFd>,
) -> Result<(), i32> {
    let mut attr = [0u64; 4];
    set_u32(&mut attr, 0, cg.as_raw_fd() as u32);
    set_u32(&mut attr, 4, prog.as_raw_fd() as u32);
    set_u32(&mut attr, 8, BPF_CGROUP_DEVICE);
    set_u32(&mut attr, 12, flags);
    if let Some(r) = replace {
        set_u32(&mut attr, 16, r.as_raw_fd() as u32);
    }
    bpf(cmd, &mut attr).map(|_| ())
}

/// Ids of the device programs attached directly to `dir`.
pub fn attached_programs(dir: &Path) -> Result<Vec<u32>, Error> {
    attached(&open_dir(dir)?)
}

fn open_dir(dir: &Path) -> Result<OwnedFd, Error> {
    let f = std::fs::File::open(dir).map_err(|e| {
        Error::io(Code::Bpf, "open", &e, format!("open {}", dir.display())).with_path(dir)
    })?;
    Ok(f.into())
}

/// Compile `rules`, load and attach the program to the cgroup2 directory
/// `dir`, replacing what was attached before.
pub fn install(dir: &Path, rules: &[DeviceRule]) -> Result<(), Error> {
    let prog = load(&program(rules)).map_err(|e| e.with_path(dir))?;
    let cg = open_dir(dir)?;
    let old = attached(&cg).map_err(|e| e.with_path(dir))?;
    let old_fds: Vec<OwnedFd> = old.iter().filter_map(|id| fd_by_id(*id).ok()).collect();
    if old_fds.len() == 1 {
        match attach_cmd(
            BPF_PROG_ATTACH,
            &cg,
            &prog,
            BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
            Some(&old_fds[0]),
        ) {
            Ok(()) => return Ok(()),
            Err(libc::EINVAL) => {} // kernel without BPF_F_REPLACE: attach, then detach
            Err(e) => {
                return Err(Error::sys(Code::Bpf, "bpf", e, "replace device program").with_path(dir))
            }
        }
    }
    attach_cmd(BPF_PROG_ATTACH, &cg, &prog, BPF_F_ALLOW_MULTI, None)
        .map_err(|e| Error::sys(Code::Bpf, "bpf", e, "attach device program").with_path(dir))?;
    for old in &old_fds {
        attach_cmd(BPF_PROG_DETACH, &cg, old, 0, None).map_err(|e| {
            Error::sys(Code::Bpf, "bpf", e, "detach earlier device program").with_path(dir)
        })?;
    }
    Ok(())
}

/// Apply the device rules, if any.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    match &r.devices {
        Some(rules) => install(dir, rules),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    /// A tiny interpreter of the instructions we emit, to check semantics
    /// without the kernel.
    fn run(p: &[Insn], kind: u32, access: u32, major: u32, minor: u32) -> u32 {
        let ctx = [(access << 16) | kind, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_W => r[dst] = ctx[i.off as usize / 4] as u64,
                AND32_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                RSH32_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                MOV32_X => r[dst] = r[src] as u32 as u64,
                MOV32_K => r[dst] = i.imm as u32 as u64,
                JNE_K => {
                    if r[dst] != i.imm as i64 as u64 {
                        pc += i.off as usize
                    }
                }
                JNE_X => {
                    if r[dst] != r[src] {
                        pc += i.off as usize
                    }
                }
                JEQ_K => {
                    if r[dst] == i.imm as i64 as u64 {
                        pc += i.off as usize
                    }
                }
                EXIT => return r[0] as u32,
                c => panic!("unknown opcode {c:#x}"),
            }
        }
    }

    #[test]
    fn whitelist_semantics() {
        let r = parse(&json!({ "devices": [
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
            { "allow": false, "type": "c", "major": 1, "minor": 3, "access": "w" },
            { "allow": true, "type": "c", "major": 5, "access": "r" },
        ] }))
        .unwrap();
        let p = program(r.devices.as_ref().unwrap());
        const C: u32 = 2;
        const B: u32 = 1;
        assert_eq!(run(&p, C, 2, 1, 3), 1, "read /dev/null");
        assert_eq!(
            run(&p, C, 4, 1, 3),
            0,
            "write /dev/null denied by the later rule"
        );
        assert_eq!(run(&p, C, 6, 1, 3), 0, "read+write /dev/null");
        assert_eq!(run(&p, C, 2, 5, 9), 1, "read any 5:*");
        assert_eq!(run(&p, C, 4, 5, 9), 0, "write 5:*");
        assert_eq!(run(&p, B, 2, 8, 0), 0, "block device");
        // no rules: allow all
        assert_eq!(run(&program(&[]), B, 7, 8, 0), 1);
        // an unconditional rule ends the program (no unreachable code)
        let all = parse(&json!({ "devices": [{ "allow": false, "type": "c", "major": 1, "minor": 3, "access": "w" }, { "allow": true, "access": "rwm" }] })).unwrap();
        let p2 = program(all.devices.as_ref().unwrap());
        assert_eq!(p2.len(), 8);
        assert_eq!(run(&p2, C, 4, 1, 3), 1);
        // jumps stay inside the program
        for (i, ins) in p.iter().enumerate() {
            assert!(i + 1 + (ins.off as usize) <= p.len());
        }
    }

    #[test]
    fn instruction_encoding() {
        let p = program(&[]);
        assert_eq!(
            p[0],
            Insn {
                code: 0x61,
                regs: 0x12,
                off: 0,
                imm: 0
            }
        );
        assert_eq!(p.last().unwrap().code, 0x95);
        assert_eq!(std::mem::size_of::<Insn>(), 8);
    }
}
