//! llvm-cpu compiles for other architectures too: the objects for AArch64 and RISC-V 64 are
//! valid ELF that LLVM's own tools disassemble, with one function per kernel, and AArch64's
//! bring their NEON GEMM tile. (They cannot run here; the x86-64 ones are run by the
//! golden-model tests, generated tiles included.)

use kiln_codegen_cpu::lowered::{BinaryFn, Body, Inst, Kernel, KernelOp, ReduceFn, View};
use kiln_codegen_llvm::{compile, CpuTarget};
use kiln_types::ElementType;

fn kernels() -> Vec<Kernel> {
    let v = |b| View::contiguous(b, 0, ElementType::F32, &[64, 64]);
    let mut sum_out = View::contiguous(2, 0, ElementType::F32, &[64, 64]);
    sum_out.strides[1] = 0;
    vec![
        Kernel {
            name: "fma_relu".into(),
            op: KernelOp::Generic {
                shape: vec![64, 64],
                tile: vec![8, 64],
                reduction_dims: 0,
                reduce: ReduceFn::Sum,
                inputs: vec![v(0), v(1)],
                outputs: vec![v(2)],
                body: Body {
                    insts: vec![
                        Inst::Input(0),
                        Inst::Input(1),
                        Inst::Binary(BinaryFn::Mul, 0, 1),
                        Inst::Unary(kiln_codegen_cpu::lowered::UnaryFn::Relu, 2),
                    ],
                    results: vec![3],
                },
            },
        },
        Kernel {
            name: "row_sum".into(),
            op: KernelOp::Generic {
                shape: vec![64, 64],
                tile: vec![8],
                reduction_dims: 1,
                reduce: ReduceFn::Sum,
                inputs: vec![v(0)],
                outputs: vec![sum_out],
                body: Body {
                    insts: vec![Inst::Input(0)],
                    results: vec![0],
                },
            },
        },
        Kernel {
            name: "matmul".into(),
            op: KernelOp::MatMul {
                a: View::contiguous(0, 0, ElementType::F32, &[1, 8, 16]),
                b: View::contiguous(1, 0, ElementType::F32, &[1, 16, 4]),
                c: View::contiguous(2, 0, ElementType::F32, &[1, 8, 4]),
                tile_m: 8,
                tile_n: 4,
                accumulate: false,
                epilogue: None,
            },
        },
    ]
}

fn objdump(object: &[u8], name: &str) -> Option<String> {
    let path = std::env::temp_dir().join(format!("kiln-cross-{}-{name}.o", std::process::id()));
    std::fs::write(&path, object).unwrap();
    let out = std::process::Command::new("llvm-objdump-22")
        .args(["-d", "-h"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            Some(String::from_utf8_lossy(&o.stdout).into_owned())
        }
        Err(e) => {
            eprintln!("llvm-objdump-22 is not available ({e}); skipping the disassembly check");
            None
        }
    }
}

#[test]
fn aarch64_and_riscv64_objects_are_valid() {
    for (triple, cpu, features, format, machine) in [
        (
            "aarch64-unknown-linux-gnu",
            "generic",
            "+neon",
            "elf64-littleaarch64",
            "aarch64",
        ),
        (
            "riscv64-unknown-linux-gnu",
            "generic-rv64",
            "+m,+a,+f,+d,+c",
            "elf64-littleriscv",
            "riscv64",
        ),
    ] {
        let target = CpuTarget {
            triple: triple.into(),
            cpu: cpu.into(),
            features: features.into(),
            ..Default::default()
        };
        let exe = compile(&kernels(), &target).unwrap_or_else(|e| panic!("{triple}: {e}"));
        assert_eq!(exe.triple, triple);
        assert_eq!(exe.symbols.len(), 3);
        assert_eq!(&exe.object[..4], b"\x7fELF", "{triple}");
        if let Some(text) = objdump(&exe.object, machine) {
            assert!(text.contains(format), "{triple}: {text}");
            for s in &exe.symbols {
                assert!(text.contains(&format!("<{s}>:")), "{triple}: no {s}");
            }
        }
    }
}

#[test]
fn host_code_records_checkable_features() {
    let exe = compile(&kernels(), &CpuTarget::host()).unwrap();
    assert!(exe.triple.starts_with(std::env::consts::ARCH));
    if std::arch::is_x86_feature_detected!("avx2") {
        assert!(
            exe.features.iter().any(|f| f == "avx2"),
            "{:?}",
            exe.features
        );
    }
    assert!(exe.features.iter().all(|f| kiln_native::cpu_has(f)));
}

#[test]
fn host_cpu_with_a_foreign_triple_is_an_error() {
    let target = CpuTarget {
        triple: "aarch64-unknown-linux-gnu".into(),
        ..Default::default()
    };
    let err = compile(&kernels(), &target).unwrap_err().to_string();
    assert!(err.contains("name a CPU"), "{err}");
}

#[test]
fn x86_cpus_record_the_features_the_runtime_checks() {
    let level = |cpu: &str| CpuTarget {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: cpu.into(),
        ..Default::default()
    };
    let v3 = compile(&kernels(), &level("x86-64-v3")).unwrap();
    for f in ["avx2", "fma", "f16c"] {
        assert!(v3.features.iter().any(|x| x == f), "{:?}", v3.features);
    }
    assert!(!v3.features.iter().any(|x| x.starts_with("avx512")));
    assert!(compile(&kernels(), &level("generic"))
        .unwrap()
        .features
        .is_empty());
    // A named CPU's implied features are unknown here, so it is refused rather than risk
    // running code on a CPU that lacks them.
    let err = compile(&kernels(), &level("znver4"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("x86-64-v4"), "{err}");
}

#[test]
fn feature_flags_name_features_the_runtime_checks() {
    let with = |features: &str| CpuTarget {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "x86-64-v2".into(),
        features: features.into(),
        ..Default::default()
    };
    // Disabling a feature needs no check, whatever its name.
    let exe = compile(&kernels(), &with("+avx2, +fma,-avx512f,+sse2,-amx-tile")).unwrap();
    for f in ["avx2", "fma", "sse4.2"] {
        assert!(exe.features.iter().any(|x| x == f), "{:?}", exe.features);
    }
    // IREE's `host` is this machine's features, which it has by definition.
    let host = CpuTarget {
        features: "host".into(),
        ..Default::default()
    };
    let exe = compile(&kernels(), &host).unwrap();
    assert!(exe.features.iter().all(|f| kiln_native::cpu_has(f)));
    // Enabling a feature the loader could not check, a misspelt one, or an entry without a
    // sign or a name is refused with the entry, rather than left to an LLVM warning or an
    // unchecked module.
    for (flag, named) in [
        ("+amx-tile", "'amx-tile'"),
        ("+avx3", "'avx3'"),
        ("avx2", "'avx2'"),
        ("+", "'+'"),
    ] {
        let err = compile(&kernels(), &with(flag)).unwrap_err().to_string();
        assert!(err.contains(named), "{flag}: {err}");
    }
}

/// The disassembly of function `symbol` in `text` (llvm-objdump's output).
fn function<'a>(text: &'a str, symbol: &str) -> &'a str {
    let start = text
        .find(&format!("<{symbol}>:"))
        .unwrap_or_else(|| panic!("no {symbol} in the object"));
    let body = &text[start..];
    &body[..body.find("\n\n").unwrap_or(body.len())]
}

/// AArch64 executables carry an 8×8 GEMM tile generated as LLVM IR, whose depth loop is NEON
/// fused multiply-adds on 4-lane vectors: 16 accumulators, one `fmla` each per depth step.
/// Turning NEON off leaves the portable Rust tile (no tile in the executable), as on RISC-V.
#[test]
fn aarch64_executables_bring_a_neon_gemm_tile() {
    let aarch64 = |features: &str| CpuTarget {
        triple: "aarch64-unknown-linux-gnu".into(),
        cpu: "generic".into(),
        features: features.into(),
        ..Default::default()
    };
    let exe = compile(&kernels(), &aarch64("")).unwrap();
    let tile = exe
        .tile
        .as_ref()
        .expect("an AArch64 executable brings its GEMM tile");
    assert_eq!((tile.mr, tile.nr), (8, 8));
    assert_eq!(tile.symbol, kiln_codegen_llvm::TILE_SYMBOL);
    if let Some(text) = objdump(&exe.object, "aarch64-tile") {
        let body = function(&text, &tile.symbol);
        let fmla = body
            .lines()
            .filter(|l| l.contains("fmla") && l.contains(".4s"))
            .count();
        assert!(fmla >= 16, "expected 16 4-lane fmla in the tile:\n{body}");
    }
    assert!(compile(&kernels(), &aarch64("-neon"))
        .unwrap()
        .tile
        .is_none());
    let riscv = CpuTarget {
        triple: "riscv64-unknown-linux-gnu".into(),
        cpu: "generic-rv64".into(),
        ..Default::default()
    };
    assert!(compile(&kernels(), &riscv).unwrap().tile.is_none());
}

/// `--iree-llvmcpu-enable-ukernels` takes IREE's names: a list without `mmt4d` generates the
/// tile, one with it keeps kiln's, and a misspelt name is an error rather than a silent choice.
#[test]
fn ukernel_lists_choose_the_gemm_tile() {
    let with = |ukernels: &str| CpuTarget {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "x86-64-v3".into(),
        ukernels: ukernels.into(),
        ..Default::default()
    };
    let tile = |u: &str| kiln_codegen_llvm::generated_tile(&with(u)).map(|t| t.map(|s| s.nr));
    assert_eq!(tile("default"), Ok(None));
    assert_eq!(tile("mmt4d,pack"), Ok(None));
    assert_eq!(tile("pack,unpack"), Ok(Some(16)));
    assert_eq!(tile("none"), Ok(Some(16)));
    let err = tile("mmt4f").unwrap_err().to_string();
    assert!(err.contains("unknown microkernel 'mmt4f'"), "{err}");
}

/// An elementwise kernel whose innermost loop is known to be short (rows of 49 values, as a
/// 7x7 plane's, in workgroup tiles of 25 and 24) runs its remainder as a masked 512-bit
/// iteration on AVX-512 rather than in scalar code: it stores through a mask.
#[test]
fn short_loops_end_in_a_masked_vector() {
    let v = |b| View::contiguous(b, 0, ElementType::F32, &[8, 49]);
    let kernel = Kernel {
        name: "short_rows".into(),
        op: KernelOp::Generic {
            shape: vec![8, 49],
            tile: vec![1, 25],
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs: vec![v(0), v(1)],
            outputs: vec![v(2)],
            body: Body {
                insts: vec![
                    Inst::Input(0),
                    Inst::Input(1),
                    Inst::Binary(BinaryFn::Mul, 0, 1),
                ],
                results: vec![2],
            },
        },
    };
    let target = CpuTarget {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "x86-64-v4".into(),
        ..Default::default()
    };
    let exe = compile(&[kernel], &target).unwrap();
    let Some(text) = objdump(&exe.object, "short") else {
        return;
    };
    let body = function(&text, &exe.symbols[0]);
    // (A scalar loop remains for pointers that overlap, which the vector loop checks first.)
    assert!(
        body.lines()
            .any(|l| l.contains("vmovups\t%zmm") && l.contains("{%k")),
        "no masked 512-bit store: {body}"
    );
}
