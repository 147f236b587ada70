//! What native code may call on any HAL: C math functions LLVM lowers intrinsics to, memory
//! functions its loop idioms become, and kiln's own helpers (f16/bf16 conversion, integer
//! power). A HAL adds its own (the local HAL runs named ops' workgroups on the VMVX
//! microkernels through `kiln_vmvx_workgroup` and `kiln_vmvx_workgroup_raw`, whose output
//! boxes have at most [`MAX_BOX_RANK`] dims).
//!
//! Imports are resolved by symbol name when an object is linked ([`lookup`]); code that needs
//! anything else is refused at load time with the name. kiln's own helpers are also exported
//! under those names (`kiln_f16_to_f32`, …), so a static library's object links against the
//! runtime library (`libkiln.a`); the C names come from the system's C library then.

#[export_name = "kiln_f16_to_f32"]
extern "C" fn f16_to_f32(bits: u16) -> f32 {
    half::f16::from_bits(bits).to_f32()
}

#[export_name = "kiln_f32_to_f16"]
extern "C" fn f32_to_f16(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

#[export_name = "kiln_ipow"]
extern "C" fn ipow(base: i64, exp: i64) -> i64 {
    base.wrapping_pow(exp.clamp(0, u32::MAX as i64) as u32)
}

/// Most dims an output box has (`kiln_vmvx_workgroup_raw` writes at most this many).
pub const MAX_BOX_RANK: usize = 8;

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

#[export_name = "kiln_f64_to_f16"]
extern "C" fn f64_to_f16(x: f64) -> u16 {
    half::f16::from_f64(x).to_bits()
}

#[export_name = "kiln_f64_to_bf16"]
extern "C" fn f64_to_bf16(x: f64) -> u16 {
    half::bf16::from_f64(x).to_bits()
}

/// The address of import `name`, if the runtime provides it.
pub fn lookup(name: &str) -> Option<usize> {
    type Op2 = extern "C" fn(f32, f32) -> f32;
    Some(match name {
        "kiln_f16_to_f32" => f16_to_f32 as extern "C" fn(u16) -> f32 as usize,
        "kiln_f32_to_f16" => f32_to_f16 as extern "C" fn(f32) -> u16 as usize,
        "kiln_ipow" => ipow as extern "C" fn(i64, i64) -> i64 as usize,
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
