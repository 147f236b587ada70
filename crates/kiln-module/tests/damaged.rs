//! Damaged module files are refused with an error, never a panic: every cut of the file, and
//! every change to a byte of its tables even when the checksums are made to match (as a
//! hostile file would), so that the table decoders see the damage.

use kiln_module::{checksum, BindingRef, BufferSpace, FunctionDef, HostInst, HostProgram};
use kiln_module::{Module, TensorSig};
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;

fn module() -> Module {
    let size = |n: i64| SymExpr::from(n);
    let program = HostProgram {
        transient_size: size(64),
        insts: vec![
            HostInst::Dispatch {
                executable: 0,
                kernel: 0,
                workgroups: Some([size(1), size(1), size(1)]),
                bindings: vec![
                    BindingRef {
                        space: BufferSpace::Input(0),
                        offset: size(0),
                        length: size(16),
                    },
                    BindingRef {
                        space: BufferSpace::Output(0),
                        offset: size(0),
                        length: size(16),
                    },
                ],
                params: vec![],
            },
            HostInst::Barrier,
        ],
    };
    Module {
        compiler_version: "test".into(),
        name: "damaged".into(),
        functions: vec![FunctionDef {
            name: "main".into(),
            inputs: vec![TensorSig::fixed("x", ElementType::F32, &[4])],
            outputs: vec![TensorSig::fixed("y", ElementType::F32, &[4])],
            programs: vec![program],
            checks: vec![],
            control: None,
            internal: false,
        }],
        executables: vec![kiln_module::ExecutableDef {
            target: "vmvx".into(),
            format: "vmvx".into(),
            data: vec![1, 2, 3, 4],
        }],
        constants: vec![],
    }
}

/// Little-endian u64 at `at`.
fn u64_at(bytes: &[u8], at: usize) -> usize {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize
}

#[test]
fn cut_files_are_refused() {
    let bytes = module().write(&[]);
    Module::read(&bytes).unwrap();
    for cut in 0..bytes.len() {
        assert!(Module::read(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn damaged_tables_are_refused_or_read_never_panicking() {
    let bytes = module().write(&[]);
    let (meta, meta_len) = (u64_at(&bytes, 16), u64_at(&bytes, 24));
    let mut refused = 0;
    for at in meta..meta + meta_len {
        for value in [0x00, 0x01, 0x7f, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] = value;
            let sum = checksum(&damaged[meta..meta + meta_len]);
            damaged[32..40].copy_from_slice(&sum.to_le_bytes());
            let header_sum = checksum(&damaged[..56]);
            damaged[56..64].copy_from_slice(&header_sum.to_le_bytes());
            refused += Module::read(&damaged).is_err() as usize;
        }
    }
    assert!(refused > 0);
}
