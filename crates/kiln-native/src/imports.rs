//! What native code may call: C math functions LLVM lowers intrinsics to, memory functions
//! its loop idioms become, and kiln's own helpers (f16 conversion, integer power, and running a
//! named op's workgroup through the VMVX microkernels, with or without its epilogue).
//!
//! Imports are resolved by symbol name when an object is linked ([`lookup`]); code that needs
//! anything else is refused at load time with the name.

use kiln_vmvx::Binding;
use std::cell::RefCell;

/// What a dispatch hands its kernels; native code passes it through to imports untouched.
pub struct DispatchContext<'a> {
    pub program: &'a kiln_vmvx::Executable,
    /// The same kernels without epilogues (native code applies those itself).
    pub raw: &'a kiln_vmvx::Executable,
    pub bindings: &'a [Binding],
    pub kernels: &'a kiln_ukernel::Kernels,
    /// The kernel being dispatched and its workgroup count: the only kernel (and workgroups)
    /// whose bindings were checked, so the only ones imports will run.
    pub entry: u32,
    pub workgroups: u32,
    /// The message of a failing import (the kernel returns nonzero).
    pub error: RefCell<Option<String>>,
}

extern "C" fn f16_to_f32(bits: u16) -> f32 {
    half::f16::from_bits(bits).to_f32()
}

extern "C" fn f32_to_f16(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

extern "C" fn ipow(base: i64, exp: i64) -> i64 {
    base.wrapping_pow(exp.clamp(0, u32::MAX as i64) as u32)
}

/// Most dims an output box has ([`vmvx_workgroup_raw`] writes at most this many).
pub const MAX_BOX_RANK: usize = 8;

/// Runs workgroup `wg` of kernel `kernel` of `program` with the VMVX microkernels; 0 on
/// success, else 1 with the message in `ctx.error`.
fn run(ctx: &DispatchContext, program: &kiln_vmvx::Executable, kernel: u32, wg: u64) -> i32 {
    if kernel != ctx.entry || wg >= ctx.workgroups as u64 {
        *ctx.error.borrow_mut() = Some(format!(
            "native code asked for workgroup {wg} of kernel {kernel} while running kernel {} ({} workgroups)",
            ctx.entry, ctx.workgroups
        ));
        return 1;
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: bindings were checked for this kernel before any workgroup ran (the raw
        // kernels touch a subset of the views of the full ones).
        unsafe { program.run_workgroup(kernel as usize, wg as u32, ctx.bindings, ctx.kernels) }
    }));
    let failure = match run {
        Ok(Ok(())) => return 0,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "a microkernel panicked".to_string(),
    };
    *ctx.error.borrow_mut() = Some(failure);
    1
}

/// Runs workgroup `wg` of kernel `kernel`, epilogue included.
///
/// # Safety
/// `ctx` must point at the live context of the dispatch that called this, whose bindings
/// were checked for `kernel`.
unsafe extern "C" fn vmvx_workgroup(ctx: *const DispatchContext, kernel: u32, wg: u64) -> i32 {
    // SAFETY: the caller passes the context it was given.
    let ctx = unsafe { &*ctx };
    run(ctx, ctx.program, kernel, wg)
}

/// Runs workgroup `wg` of kernel `kernel` without its epilogue and writes the output box the
/// epilogue must cover to `lo`/`hi` (rank of the output, at most [`MAX_BOX_RANK`]).
///
/// # Safety
/// As [`vmvx_workgroup`]; `lo` and `hi` must each point at `MAX_BOX_RANK` writable u64s.
unsafe extern "C" fn vmvx_workgroup_raw(
    ctx: *const DispatchContext,
    kernel: u32,
    wg: u64,
    lo: *mut u64,
    hi: *mut u64,
) -> i32 {
    // SAFETY: the caller passes the context it was given.
    let ctx = unsafe { &*ctx };
    let status = run(ctx, ctx.raw, kernel, wg);
    if status != 0 {
        return status;
    }
    let boxed = ctx
        .program
        .kernels
        .get(kernel as usize)
        .and_then(|k| k.output_box(wg))
        .filter(|(l, _)| l.len() <= MAX_BOX_RANK);
    let Some((l, h)) = boxed else {
        *ctx.error.borrow_mut() = Some(format!("kernel {kernel} has no output box"));
        return 1;
    };
    for (d, (a, b)) in l.iter().zip(&h).enumerate() {
        // SAFETY: the caller provides MAX_BOX_RANK slots; d < MAX_BOX_RANK.
        unsafe {
            lo.add(d).write(*a);
            hi.add(d).write(*b);
        }
    }
    0
}

extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract of memcpy, which the calling code follows.
    unsafe { std::ptr::copy_nonoverlapping(s, d, n) };
    d
}

extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract of memmove.
    unsafe { std::ptr::copy(s, d, n) };
    d
}

extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the C contract of memset.
    unsafe { std::ptr::write_bytes(d, c as u8, n) };
    d
}

macro_rules! math {
    ($($name:ident),* $(,)?) => {
        fn math(name: &str) -> Option<usize> {
            $(
                extern "C" fn $name(x: f32) -> f32 {
                    libm::$name(x)
                }
            )*
            match name {
                $(stringify!($name) => Some($name as extern "C" fn(f32) -> f32 as usize),)*
                _ => None,
            }
        }
    };
}

math!(
    expf, exp2f, expm1f, logf, log2f, log1pf, tanhf, erff, sinf, cosf, floorf, ceilf, sqrtf, fabsf,
    truncf, roundevenf
);

extern "C" fn powf(x: f32, y: f32) -> f32 {
    libm::powf(x, y)
}
extern "C" fn fmaxf(x: f32, y: f32) -> f32 {
    libm::fmaxf(x, y)
}
extern "C" fn fminf(x: f32, y: f32) -> f32 {
    libm::fminf(x, y)
}

/// LLVM fuses `sin` and `cos` of one value into this.
///
/// # Safety
/// `s` and `c` must be writable.
unsafe extern "C" fn sincosf(x: f32, s: *mut f32, c: *mut f32) {
    // SAFETY: the caller passes two writable floats.
    unsafe {
        s.write(libm::sinf(x));
        c.write(libm::cosf(x));
    }
}

extern "C" fn f64_to_f16(x: f64) -> u16 {
    half::f16::from_f64(x).to_bits()
}

extern "C" fn f64_to_bf16(x: f64) -> u16 {
    half::bf16::from_f64(x).to_bits()
}

type RawFn = unsafe extern "C" fn(*const DispatchContext, u32, u64, *mut u64, *mut u64) -> i32;

/// The address of import `name`, if the runtime provides it.
pub fn lookup(name: &str) -> Option<usize> {
    type Op2 = extern "C" fn(f32, f32) -> f32;
    Some(match name {
        "kiln_f16_to_f32" => f16_to_f32 as extern "C" fn(u16) -> f32 as usize,
        "kiln_f32_to_f16" => f32_to_f16 as extern "C" fn(f32) -> u16 as usize,
        "kiln_ipow" => ipow as extern "C" fn(i64, i64) -> i64 as usize,
        "kiln_vmvx_workgroup" => {
            vmvx_workgroup as unsafe extern "C" fn(*const DispatchContext, u32, u64) -> i32 as usize
        }
        "kiln_vmvx_workgroup_raw" => vmvx_workgroup_raw as RawFn as usize,
        "memcpy" => memcpy as extern "C" fn(*mut u8, *const u8, usize) -> *mut u8 as usize,
        "memmove" => memmove as extern "C" fn(*mut u8, *const u8, usize) -> *mut u8 as usize,
        "memset" => memset as extern "C" fn(*mut u8, i32, usize) -> *mut u8 as usize,
        "powf" => powf as Op2 as usize,
        "sincosf" => sincosf as unsafe extern "C" fn(f32, *mut f32, *mut f32) as usize,
        "kiln_f64_to_f16" => f64_to_f16 as extern "C" fn(f64) -> u16 as usize,
        "kiln_f64_to_bf16" => f64_to_bf16 as extern "C" fn(f64) -> u16 as usize,
        "fmaxf" => fmaxf as Op2 as usize,
        "fminf" => fminf as Op2 as usize,
        other => return math(other),
    })
}
