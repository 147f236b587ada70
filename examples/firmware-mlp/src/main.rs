//! A firmware-style program: the golden MLP, compiled for `vmvx-inline`, run by kiln's inline
//! runtime on a bare-metal Cortex-M4F with no operating system, no threads and no HAL.
//!
//! The module, the input and ONNX Runtime's output are placed in read-only memory at build
//! time (`KILN_FIRMWARE_MODULE`, `KILN_FIRMWARE_INPUT`, `KILN_FIRMWARE_EXPECTED`: raw
//! little-endian files); the module is read in place. The heap (for what loading allocates:
//! the decoded tables and the transient arena) is a static array. Results go out through
//! semihosting, and the exit status says whether the output matched. `scripts/firmware.sh`
//! builds it, prints its sizes and runs it on QEMU's MPS2 AN386 board.
//!
//! It builds kiln-inline with no optional feature: the MLP's f32 matmuls, elementwise
//! epilogues and softmax are always in, and an error prints its kind without details (add
//! kiln-inline's `messages` feature for them, about 5 KB).

#![no_std]
#![no_main]

use core::mem::MaybeUninit;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap as Heap;
use kiln_inline::{InlineError, InlineModule};

#[global_allocator]
static HEAP: Heap = Heap::empty();

/// Bytes of heap: the decoded tables, the transient arena and the microkernels' per-tile
/// scratch (the weights come packed in the module).
const HEAP_BYTES: usize = 256 * 1024;

/// Data at a 64-byte boundary: the runtime reads the module's constants in place only then,
/// and kernels read and write tensors as their element type.
#[repr(C, align(64))]
struct Aligned<T>(T);

const MODULE_LEN: usize = include_bytes!(env!("KILN_FIRMWARE_MODULE")).len();
static MODULE: Aligned<[u8; MODULE_LEN]> = Aligned(*include_bytes!(env!("KILN_FIRMWARE_MODULE")));
const INPUT_LEN: usize = include_bytes!(env!("KILN_FIRMWARE_INPUT")).len();
static INPUT: Aligned<[u8; INPUT_LEN]> = Aligned(*include_bytes!(env!("KILN_FIRMWARE_INPUT")));
const OUTPUT_LEN: usize = include_bytes!(env!("KILN_FIRMWARE_EXPECTED")).len();
static EXPECTED: Aligned<[u8; OUTPUT_LEN]> =
    Aligned(*include_bytes!(env!("KILN_FIRMWARE_EXPECTED")));

#[entry]
fn main() -> ! {
    static mut HEAP_MEMORY: [MaybeUninit<u8>; HEAP_BYTES] = [MaybeUninit::uninit(); HEAP_BYTES];
    // SAFETY: `entry` runs once and this is the heap's only memory; `HEAP_MEMORY` is `main`'s
    // own (cortex-m-rt hands it over as `&'static mut`).
    unsafe { HEAP.init(HEAP_MEMORY.as_mut_ptr() as usize, HEAP_BYTES) };
    let status = match run() {
        // The largest difference from ONNX Runtime, in billionths (no float formatting here).
        Ok((error, [loaded, first, second])) => {
            let nano = (error * 1e9) as u32;
            hprintln!(
                "kiln-firmware: mlp ran; max abs error vs ONNX Runtime {}e-9",
                nano
            );
            hprintln!(
                "kiln-firmware: heap in use: {} bytes after loading, {} after the first call, {} after the second",
                loaded,
                first,
                second
            );
            if error <= 1e-4 {
                debug::EXIT_SUCCESS
            } else {
                debug::EXIT_FAILURE
            }
        }
        Err(e) => {
            hprintln!("kiln-firmware: {}", e);
            debug::EXIT_FAILURE
        }
    };
    debug::exit(status);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Loads the module, runs `main` twice, and returns the largest difference from the expected
/// output with the heap's use after loading and after each call.
fn run() -> Result<(f32, [usize; 3]), InlineError> {
    let mut module = InlineModule::load(&MODULE.0)?;
    let loaded = HEAP.used();
    let mut output = Aligned([0u8; OUTPUT_LEN]);
    module.call("main", &[&INPUT.0], &mut [&mut output.0])?;
    let first = HEAP.used();
    module.call("main", &[&INPUT.0], &mut [&mut output.0])?;
    let second = HEAP.used();
    // A NaN difference counts as infinite, so a NaN output fails.
    let error = floats(&output.0)
        .zip(floats(&EXPECTED.0))
        .map(|(got, want)| match (got - want).abs() {
            d if d.is_nan() => f32::INFINITY,
            d => d,
        })
        .fold(0.0, f32::max);
    Ok((error, [loaded, first, second]))
}

/// Little-endian f32s.
fn floats(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Reports that a panic happened, not where or why: formatting the message would link the
/// `Debug` formatting of every value a panic in the runtime can name, and keeping the
/// location every panic site's file name (together a sixth of the firmware). A panic is a kiln
/// bug; a debugger stopped here shows where it came from.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    hprintln!("kiln-firmware: panicked (a kiln bug: break here in a debugger to see where)");
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
