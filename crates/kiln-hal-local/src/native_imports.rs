//! The imports the local HAL gives native code besides `kiln_native`'s: running a named op's
//! workgroup on the VMVX microkernels, with its epilogue (`kiln_vmvx_workgroup`) or without it,
//! reporting the output box the generated code applies the epilogue over
//! (`kiln_vmvx_workgroup_raw`), and an integer convolution's or matmul's workgroup whose
//! `i32` sums the generated epilogue reads from the runtime's scratch
//! (`kiln_vmvx_integer_sums`). They are exported under those names too, for static libraries
//! linked into the program.

use kiln_native::imports::MAX_BOX_RANK;
use kiln_vmvx::Binding;
use std::cell::RefCell;

/// What a dispatch hands its kernels; native code passes it through to imports untouched.
pub struct DispatchContext<'a> {
    pub program: &'a kiln_vmvx::Executable,
    /// The same kernels without epilogues (native code applies those itself).
    pub raw: &'a kiln_vmvx::Executable,
    pub bindings: &'a [Binding],
    pub kernels: &'a kiln_ukernel::Kernels,
    /// The kernel being dispatched (the entry point native code names it by) and its workgroup
    /// count: the only kernel (and workgroups) whose bindings were checked, so the only ones
    /// imports will run.
    pub entry: u32,
    /// The kernel's index in `program` and `raw` (its entry point, or 0 for a kernel bound to
    /// the dispatch's sizes).
    pub slot: usize,
    pub workgroups: u32,
    /// The message of a failing import (the kernel returns nonzero).
    pub error: RefCell<Option<String>>,
}

/// Runs workgroup `wg` of kernel `kernel` of `program` with the VMVX microkernels; 0 on
/// success, else 1 with the message in `ctx.error`.
fn run(ctx: &DispatchContext, program: &kiln_vmvx::Executable, kernel: u32, wg: u64) -> i32 {
    guarded(ctx, kernel, wg, || {
        // SAFETY: bindings were checked for this kernel before any workgroup ran (the raw
        // kernels touch a subset of the views of the full ones).
        unsafe { program.run_workgroup(ctx.slot, wg as u32, ctx.bindings, ctx.kernels) }
    })
}

/// Runs `work` for workgroup `wg` of kernel `kernel`, if that is what this dispatch checked
/// bindings for: 0 on success, else 1 with the message (or a panic's) in `ctx.error`.
fn guarded(
    ctx: &DispatchContext,
    kernel: u32,
    wg: u64,
    work: impl FnOnce() -> Result<(), kiln_vmvx::VmvxError>,
) -> i32 {
    if kernel != ctx.entry || wg >= ctx.workgroups as u64 {
        *ctx.error.borrow_mut() = Some(format!(
            "native code asked for workgroup {wg} of kernel {kernel} while running kernel {} ({} workgroups)",
            ctx.entry, ctx.workgroups
        ));
        return 1;
    }
    let failure = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
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
#[export_name = "kiln_vmvx_workgroup"]
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
#[export_name = "kiln_vmvx_workgroup_raw"]
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
    // SAFETY: forwarded contract.
    unsafe { write_box(ctx, kernel, wg, lo, hi) }
}

/// Runs workgroup `wg` of integer product `kernel` without its epilogue, writes the output
/// box as [`vmvx_workgroup_raw`] does and, to `sums`, where its `i32` sums lie (laid out as
/// [`kiln_vmvx::Executable::integer_sums`] says, until this thread runs another workgroup).
///
/// # Safety
/// As [`vmvx_workgroup_raw`]; `sums` must point at a writable pointer.
#[export_name = "kiln_vmvx_integer_sums"]
unsafe extern "C" fn vmvx_integer_sums(
    ctx: *const DispatchContext,
    kernel: u32,
    wg: u64,
    lo: *mut u64,
    hi: *mut u64,
    sums: *mut *const i32,
) -> i32 {
    // SAFETY: the caller passes the context it was given.
    let ctx = unsafe { &*ctx };
    guarded(ctx, kernel, wg, || {
        // SAFETY: bindings were checked for this kernel before any workgroup ran.
        let (start, (l, h)) = unsafe {
            ctx.program
                .integer_sums(ctx.slot, wg as u32, ctx.bindings)?
        };
        // SAFETY: the caller provides a writable pointer, and MAX_BOX_RANK slots in `lo`
        // and `hi`, more than a convolution's or matmul's box has.
        unsafe {
            sums.write(start);
            for (d, (a, b)) in l.iter().zip(&h).take(MAX_BOX_RANK).enumerate() {
                lo.add(d).write(*a);
                hi.add(d).write(*b);
            }
        }
        Ok(())
    })
}

/// Writes workgroup `wg`'s output box to `lo`/`hi`; 0, or 1 with the message in `ctx.error`.
///
/// # Safety
/// `lo` and `hi` must each point at `MAX_BOX_RANK` writable u64s.
unsafe fn write_box(
    ctx: &DispatchContext,
    kernel: u32,
    wg: u64,
    lo: *mut u64,
    hi: *mut u64,
) -> i32 {
    let boxed = ctx
        .program
        .kernels
        .get(ctx.slot)
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

type RawFn = unsafe extern "C" fn(*const DispatchContext, u32, u64, *mut u64, *mut u64) -> i32;
type SumsFn = unsafe extern "C" fn(
    *const DispatchContext,
    u32,
    u64,
    *mut u64,
    *mut u64,
    *mut *const i32,
) -> i32;

/// The address of import `name` for native code run by this HAL.
pub fn lookup(name: &str) -> Option<usize> {
    match name {
        "kiln_vmvx_workgroup" => Some(
            vmvx_workgroup as unsafe extern "C" fn(*const DispatchContext, u32, u64) -> i32
                as usize,
        ),
        "kiln_vmvx_workgroup_raw" => Some(vmvx_workgroup_raw as RawFn as usize),
        "kiln_vmvx_integer_sums" => Some(vmvx_integer_sums as SumsFn as usize),
        other => kiln_native::imports::lookup(other),
    }
}
