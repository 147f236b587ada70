//! Regression tests from review: empty tensors, hostile modules, overflowing IR, and ONNX
//! semantics that once gave silently wrong answers. Programs that compile and run here do so on
//! vmvx and llvm-cpu (local-task) and, where a Vulkan device exists, on vulkan-spirv (vulkan).

use kiln_compiler::{CompileOptions, CompileOutput};
use kiln_import::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TypeProto,
    TypeProtoTensor, ValueInfoProto,
};
use kiln_module::{
    BindingRef, BufferSpace, ExecutableDef, FunctionDef, HostInst, HostProgram, Module, TensorSig,
};
use kiln_runtime::{LoadedModule, ModuleBytes};
use kiln_types::{ElementType, HostTensor};
use kiln_vmvx::format::{Body, Executable, Inst, Kernel, KernelOp, ReduceFn, View};
use prost::Message;
use std::sync::Arc;

fn load(bytes: &[u8]) -> Result<LoadedModule, kiln_runtime::RuntimeError> {
    let device = kiln_tools::registry()
        .create_device("local-task", &Default::default())
        .unwrap();
    LoadedModule::load(device, Arc::new(ModuleBytes::from_bytes(bytes)), "test")
}

/// Compiles a program for vmvx.
fn compile(program: kiln_ir::Program) -> Vec<u8> {
    compile_for(program, "vmvx")
}

fn compile_for(program: kiln_ir::Program, target: &str) -> Vec<u8> {
    let opts = CompileOptions {
        targets: vec![target.into()],
        ..Default::default()
    };
    match kiln_compiler::compile_program(program, &opts).unwrap() {
        CompileOutput::Module(bytes) => bytes,
        CompileOutput::Text(_) => unreachable!("no --compile-to"),
    }
}

/// (target, device) pairs to run compiled programs on: vmvx always, vulkan where it exists.
fn configurations() -> Vec<(&'static str, &'static str)> {
    let registry = kiln_tools::registry();
    let vulkan = registry
        .get("vulkan")
        .and_then(|d| d.enumerate_devices().ok())
        .is_some_and(|d| !d.is_empty());
    if !vulkan && std::env::var_os("KILN_REQUIRE_VULKAN").is_some() {
        panic!("a Vulkan device is required (KILN_REQUIRE_VULKAN)");
    }
    let mut c = vec![("vmvx", "local-task"), ("llvm-cpu", "local-task")];
    if vulkan {
        c.push(("vulkan-spirv", "vulkan"));
    }
    c
}

/// Compiles `program` for `target` and runs it on `device`.
fn run_on(
    program: &kiln_ir::Program,
    (target, device): (&str, &str),
    inputs: &[HostTensor],
) -> Result<Vec<HostTensor>, kiln_runtime::RuntimeError> {
    let bytes = compile_for(program.clone(), target);
    let dev = kiln_tools::registry()
        .create_device(device, &Default::default())
        .unwrap();
    LoadedModule::load(dev, Arc::new(ModuleBytes::from_bytes(&bytes)), "test")?
        .invoke("main", inputs)
}

fn run_ir(text: &str, inputs: &[HostTensor]) -> Vec<HostTensor> {
    let program = kiln_ir::text::parse_program(text).unwrap();
    let expected = kiln_ir::interp::run(&program, "main", inputs).unwrap();
    for config in configurations() {
        let got = run_on(&program, config, inputs).unwrap();
        assert!(
            same(&got, &expected),
            "result on {config:?} differs from the interpreter:\n{got:?}\n{expected:?}"
        );
    }
    expected
}

/// Bit-identical tensors, except that any NaN equals any NaN (sign and payload of a NaN are
/// not specified across devices).
fn same(a: &[HostTensor], b: &[HostTensor]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (x.element_type, &x.shape) == (y.element_type, &y.shape)
                && (x.data == y.data
                    || x.to_f64()
                        .iter()
                        .zip(y.to_f64())
                        .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan())))
        })
}

#[test]
fn empty_tensors_compile_and_run() {
    let m0 = run_ir("func @main(%0 \"a\": tensor<0x4xf32>, %1 \"b\": tensor<4x3xf32>) -> (%2 \"y\") {\n  %2 = matmul %0, %1 : tensor<0x3xf32> loc(\"mm\")\n}", &[HostTensor::zeros(ElementType::F32, &[0, 4]), HostTensor::from_f32(&[4, 3], &[1.0; 12])]);
    assert_eq!(m0[0].shape, vec![0, 3]);
    let k0 = run_ir("func @main(%0 \"a\": tensor<2x0xf32>, %1 \"b\": tensor<0x3xf32>) -> (%2 \"y\") {\n  %2 = matmul %0, %1 : tensor<2x3xf32> loc(\"mm\")\n}", &[HostTensor::zeros(ElementType::F32, &[2, 0]), HostTensor::zeros(ElementType::F32, &[0, 3])]);
    assert_eq!(k0[0].to_f32(), vec![0.0; 6]);
    let c = run_ir("func @main(%0 \"x\": tensor<2xf32>) -> (%2 \"y\") {\n  %1 = slice {starts = [2], ends = [2], steps = [1]} %0 : tensor<0xf32> loc(\"s\")\n  %2 = concat {axis = 0} %1, %0 : tensor<2xf32> loc(\"c\")\n}", &[HostTensor::from_f32(&[2], &[1.0, 2.0])]);
    assert_eq!(c[0].to_f32(), vec![1.0, 2.0]);
}

fn hostile_module(output: View, bindings: Vec<BindingRef<u64>>, transient_size: u64) -> Vec<u8> {
    let kernel = Kernel {
        name: "evil".into(),
        op: KernelOp::Generic {
            shape: output.shape.clone(),
            tile: output.shape.clone(),
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs: vec![],
            outputs: vec![output],
            body: Body {
                insts: vec![Inst::ConstF(1.0)],
                results: vec![0],
            },
        },
    };
    one_dispatch_module(kernel, vec![], bindings, transient_size)
}

/// A module whose `main` (inputs `inputs`, one `2xf32` output) runs `kernel` once over
/// `bindings`.
fn one_dispatch_module(
    kernel: Kernel,
    inputs: Vec<TensorSig>,
    bindings: Vec<BindingRef<u64>>,
    transient_size: u64,
) -> Vec<u8> {
    let program = HostProgram::from_bound(&HostProgram {
        transient_size,
        insts: vec![HostInst::Dispatch {
            executable: 0,
            kernel: 0,
            workgroups: Some([1, 1, 1]),
            bindings,
            params: vec![],
        }],
    });
    let output = TensorSig::fixed("y", ElementType::F32, &[2]);
    let f = FunctionDef {
        name: "main".into(),
        inputs,
        outputs: vec![output],
        programs: vec![program],
        checks: vec![],
        control: None,
        internal: false,
    };
    let exe = Executable {
        kernels: vec![kernel],
    };
    let executables = vec![ExecutableDef {
        target: "vmvx".into(),
        format: kiln_vmvx::FORMAT.into(),
        data: exe.encode(),
    }];
    Module {
        compiler_version: "test".into(),
        name: "evil".into(),
        functions: vec![f],
        executables,
        constants: vec![],
    }
    .write(&[])
}

#[test]
fn hostile_modules_are_refused_before_touching_memory() {
    let out = BindingRef {
        space: BufferSpace::Output(0),
        offset: 0,
        length: 8,
    };
    let far = View {
        binding: 0,
        offset: 1 << 40,
        element_type: ElementType::F32,
        shape: vec![2],
        strides: vec![1],
    };
    let err = load(&hostile_module(far, vec![out], 0))
        .unwrap()
        .invoke("main", &[])
        .unwrap_err();
    assert!(err.to_string().contains("outside binding"), "{err}");
    let overflow = View {
        binding: 0,
        offset: 0,
        element_type: ElementType::F32,
        shape: vec![2],
        strides: vec![i64::MAX],
    };
    let err = load(&hostile_module(overflow, vec![out], 0))
        .unwrap()
        .invoke("main", &[])
        .unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
    let ok = View::contiguous(0, 0, ElementType::F32, &[2]);
    let twice = vec![
        BindingRef {
            space: BufferSpace::Transient,
            offset: 0,
            length: 8,
        },
        BindingRef {
            space: BufferSpace::Transient,
            offset: 4,
            length: 8,
        },
    ];
    let err = load(&hostile_module(ok.clone(), twice, 64)).err().unwrap();
    assert!(err.to_string().contains("overlapping bytes"), "{err}");
    let err = load(&hostile_module(ok, vec![out], 1 << 62))
        .unwrap()
        .invoke("main", &[])
        .unwrap_err();
    assert!(err.to_string().contains("cannot allocate"), "{err}");
}

#[test]
fn overflowing_ir_is_an_error_not_a_panic() {
    let cases = [
        "const @c0 : tensor<2xi8> = dense<\"0xa\u{e9}0\">",
        "func @f(%0 \"x\": tensor<4xf32>) -> (%1 \"y\") {\n  %1 = pad {lows = [9223372036854775807], highs = [9223372036854775807], value = 0.0} %0 : tensor<4xf32>\n}",
        "func @f(%0 \"x\": tensor<1x1x4x4xf32>, %1 \"w\": tensor<1x1x0x3xf32>) -> (%2 \"y\") {\n  %2 = conv2d {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 1} %0, %1 : tensor<1x1x4x2xf32>\n}",
        "func @f(%0 \"x\": tensor<4xf32>) -> (%1 \"y\") {\n  %1 = reshape {shape = [4294967296, 4294967296, 0]} %0 : tensor<4294967296x4294967296x0xf32>\n}",
        "func @f(%0 \"x\": tensor<4x4xf32>) -> (%1 \"y\") {\n  %1 = slice {starts = [9223372036854775807, 0], ends = [4, 4], steps = [1, 1]} %0 : tensor<0x4xf32>\n}",
    ];
    for text in cases {
        assert!(
            kiln_ir::text::parse_program(text).is_err(),
            "accepted: {text}"
        );
    }
    // A huge step is valid: it selects the first element.
    let y = run_ir("func @main(%0 \"x\": tensor<2x4xf32>) -> (%1 \"y\") {\n  %1 = slice {starts = [0, 1], ends = [2, 4], steps = [1, 9223372036854775807]} %0 : tensor<2x1xf32> loc(\"s\")\n}", &[HostTensor::from_f32(&[2, 4], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])]);
    assert_eq!(y[0].to_f32(), vec![1.0, 5.0]);
}

fn tensor_info(name: &str, elem: i32, dims: &[i64]) -> ValueInfoProto {
    let shape = kiln_import::onnx::proto::TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| kiln_import::onnx::proto::Dimension {
                dim_value: Some(d),
                dim_param: None,
            })
            .collect(),
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(elem),
                shape: Some(shape),
            }),
        }),
    }
}

fn initializer(name: &str, t: &HostTensor) -> TensorProto {
    let code = match t.element_type {
        ElementType::F32 => 1,
        ElementType::I32 => 6,
        _ => 7,
    };
    TensorProto {
        dims: t.shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(code),
        name: Some(name.into()),
        raw_data: Some(t.data.clone()),
        ..Default::default()
    }
}

/// Imports a one-node ONNX model at opset 17 ([`one_node_model`]).
fn one_node_program(
    op: &str,
    attrs: Vec<AttributeProto>,
    x: &HostTensor,
    consts: &[(&str, HostTensor)],
    out_dims: &[i64],
) -> kiln_ir::Program {
    let model = one_node_model(op, attrs, x, consts, out_dims, 17);
    kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap()
}

/// A one-node ONNX model at `opset`: op `op` on input `x` (f32 or i32, shaped like `x`) and
/// the initializers `consts`, with output `y`.
fn one_node_model(
    op: &str,
    attrs: Vec<AttributeProto>,
    x: &HostTensor,
    consts: &[(&str, HostTensor)],
    out_dims: &[i64],
    opset: i64,
) -> ModelProto {
    let elem = if x.element_type == ElementType::I32 {
        6
    } else {
        1
    };
    let mut inputs = vec!["x".to_string()];
    inputs.extend(consts.iter().map(|(n, _)| n.to_string()));
    let node = NodeProto {
        input: inputs,
        output: vec!["y".into()],
        name: Some("n".into()),
        op_type: Some(op.into()),
        domain: None,
        attribute: attrs,
    };
    let graph = GraphProto {
        node: vec![node],
        name: Some("g".into()),
        initializer: consts.iter().map(|(n, t)| initializer(n, t)).collect(),
        input: vec![tensor_info(
            "x",
            elem,
            &x.shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        )],
        output: vec![tensor_info("y", elem, out_dims)],
        value_info: vec![],
    };
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(opset),
        }],
        producer_name: None,
        graph: Some(graph),
        functions: vec![],
    }
}

/// Runs a one-node ONNX model ([`one_node_program`]) through kiln on `x`.
fn one_node(
    op: &str,
    attrs: Vec<AttributeProto>,
    x: &HostTensor,
    consts: &[(&str, HostTensor)],
    out_dims: &[i64],
) -> HostTensor {
    let bytes = compile(one_node_program(op, attrs, x, consts, out_dims));
    load(&bytes)
        .unwrap()
        .invoke("main", std::slice::from_ref(x))
        .unwrap()
        .remove(0)
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(7),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(2),
        i: Some(v),
        ..Default::default()
    }
}

#[test]
fn onnx_semantics_match_onnx_runtime() {
    // LogSoftmax stays finite for large negative inputs (ORT: [0, -200]).
    let y = one_node(
        "LogSoftmax",
        vec![int_attr("axis", -1)],
        &HostTensor::from_f32(&[1, 2], &[0.0, -200.0]),
        &[],
        &[1, 2],
    );
    assert_eq!(y.to_f32(), vec![0.0, -200.0]);
    // An integer base with a float exponent (ORT: [2, 3, 4]).
    let x = HostTensor::from_f64(ElementType::I32, &[3], &[4.0, 9.0, 16.0]);
    let y = one_node(
        "Pow",
        vec![],
        &x,
        &[("e", HostTensor::from_f32(&[3], &[0.5; 3]))],
        &[3],
    );
    assert_eq!(y.to_i64(), vec![2, 3, 4]);
    // Negative-step slices clamp starts to [0, dim-1] (ORT: [1]).
    let s = |v: i64| HostTensor::from_i64(&[1], &[v]);
    let y = one_node(
        "Slice",
        vec![],
        &HostTensor::from_f32(&[3], &[1.0, 2.0, 3.0]),
        &[
            ("starts", s(-4)),
            ("ends", s(-5)),
            ("axes", s(0)),
            ("steps", s(-1)),
        ],
        &[1],
    );
    assert_eq!(y.to_f32(), vec![1.0]);
    // Max propagates NaN (ORT: [2, NaN, NaN]).
    let y = one_node(
        "Max",
        vec![],
        &HostTensor::from_f32(&[3], &[1.0, f32::NAN, 3.0]),
        &[("b", HostTensor::from_f32(&[3], &[2.0, 2.0, f32::NAN]))],
        &[3],
    );
    let y = y.to_f32();
    assert!(y[0] == 2.0 && y[1].is_nan() && y[2].is_nan(), "{y:?}");
    // Pow with a [1,1] exponent broadcasts the result to rank 2 (ORT: shape [1, 3]).
    let y = one_node(
        "Pow",
        vec![],
        &HostTensor::from_f32(&[3], &[1.0, 2.0, 3.0]),
        &[("e", HostTensor::from_f32(&[1, 1], &[2.0]))],
        &[1, 3],
    );
    assert_eq!(
        (y.shape.clone(), y.to_f32()),
        (vec![1, 3], vec![1.0, 4.0, 9.0])
    );
}

#[test]
fn reductions_over_an_empty_axis_yield_their_identity() {
    for (kind, want) in [
        ("sum", 0.0f32),
        ("max", f32::NEG_INFINITY),
        ("min", f32::INFINITY),
    ] {
        let text = format!("func @main(%0 \"x\": tensor<3x0xf32>) -> (%1 \"y\") {{\n  %1 = reduce {{kind = {kind}, axes = [1], keep_dims = 0}} %0 : tensor<3xf32> loc(\"r\")\n}}");
        let y = run_ir(&text, &[HostTensor::zeros(ElementType::F32, &[3, 0])]);
        assert_eq!(y[0].to_f32(), vec![want; 3], "{kind}");
    }
    let text = "func @main(%0 \"x\": tensor<3x0xf32>) -> (%1 \"y\") {\n  %1 = reduce {kind = mean, axes = [1], keep_dims = 0} %0 : tensor<3xf32> loc(\"r\")\n}";
    let y = run_ir(text, &[HostTensor::zeros(ElementType::F32, &[3, 0])]);
    assert!(y[0].to_f32().iter().all(|v| v.is_nan()));
}

#[test]
fn kernels_may_not_write_inputs_or_share_outputs() {
    let view = View::contiguous(0, 0, ElementType::F32, &[2]);
    let fill = |outputs: Vec<View>| Kernel {
        name: "evil".into(),
        op: KernelOp::Generic {
            shape: vec![2],
            tile: vec![2],
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs: vec![],
            outputs: outputs.clone(),
            body: Body {
                insts: vec![Inst::ConstF(1.0)],
                results: vec![0; outputs.len()],
            },
        },
    };
    let module = |kernel: Kernel, space: BufferSpace| {
        let input = TensorSig::fixed("x", ElementType::F32, &[2]);
        one_dispatch_module(
            kernel,
            vec![input],
            vec![BindingRef {
                space,
                offset: 0,
                length: 8,
            }],
            0,
        )
    };
    let x = HostTensor::from_f32(&[2], &[5.0, 6.0]);
    let err = load(&module(fill(vec![view.clone()]), BufferSpace::Input(0)))
        .unwrap()
        .invoke("main", std::slice::from_ref(&x))
        .unwrap_err();
    assert!(
        err.to_string().contains("writes read-only binding"),
        "{err}"
    );
    let err = load(&module(
        fill(vec![view.clone(), View { offset: 1, ..view }]),
        BufferSpace::Output(0),
    ))
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("two outputs write binding 0"),
        "{err}"
    );
}

/// Compiles and runs `text`, comparing with the interpreter within `tol` (relative to 1).
fn run_ir_close(text: &str, inputs: &[HostTensor], tol: f64) {
    let program = kiln_ir::text::parse_program(text).unwrap();
    let expected = kiln_ir::interp::run(&program, "main", inputs).unwrap();
    for config in configurations() {
        let got = run_on(&program, config, inputs).unwrap();
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!((g.element_type, &g.shape), (e.element_type, &e.shape));
            for (a, b) in g.to_f64().iter().zip(e.to_f64()) {
                assert!(
                    (a - b).abs() <= tol * b.abs().max(1.0),
                    "{config:?}: {a} vs {b}"
                );
            }
        }
    }
}

/// `v · sigmoid(v)` where `v` is a matmul's result through a chain of adds just short of the
/// length at which dispatch formation stores an expression (a quarter of
/// `kiln_vmvx::format::MAX_BODY_INSTS`): `sigmoid(v)` is stored on its own, and the other use
/// of `v` must still read the matmul's raw result, not one with that branch as its epilogue.
#[test]
fn long_chains_into_a_converging_activation_match_the_interpreter() {
    let mut text = String::from(
        "func @main(%0 \"x\": tensor<4x8xf32>, %1 \"w\": tensor<8x8xf32>, %2 \"c\": tensor<4x8xf32>) -> (%3 \"y\") {\n  %4 = matmul %0, %1 : tensor<4x8xf32> loc(\"mm\")\n",
    );
    let adds = 1022;
    for i in 0..adds {
        let line = format!(
            "  %{} = add %{}, %2 : tensor<4x8xf32> loc(\"a\")\n",
            5 + i,
            4 + i
        );
        text.push_str(&line);
    }
    let (v, s) = (4 + adds, 5 + adds);
    text.push_str(&format!(
        "  %{s} = sigmoid %{v} : tensor<4x8xf32> loc(\"s\")\n  %3 = mul %{v}, %{s} : tensor<4x8xf32> loc(\"m\")\n}}"
    ));
    let ramp = |n: usize, scale: f32| {
        (0..n)
            .map(|i| (i % 7) as f32 * scale - 0.3)
            .collect::<Vec<_>>()
    };
    let x = HostTensor::from_f32(&[4, 8], &ramp(32, 0.1));
    let w = HostTensor::from_f32(&[8, 8], &ramp(64, 0.05));
    let c = HostTensor::from_f32(&[4, 8], &[1e-3; 32]);
    run_ir_close(&text, &[x, w, c], 1e-4);
}

/// A squeeze-and-excitation gate: `sigmoid` of a matmul's result, broadcast over 64 rows
/// to scale them. The gate is computed once per value, as the matmul's epilogue, not once
/// per element it scales (the scaling kernel multiplies only), and the result agrees with
/// the reference interpreter on every target.
#[test]
fn a_broadcast_gate_is_computed_once_per_value() {
    let text = "func @main(%0 \"x\": tensor<4x64x8xf32>, %1 \"p\": tensor<4x1x16xf32>, %2 \"w\": tensor<16x8xf32>, %3 \"b\": tensor<8xf32>) -> (%7 \"y\") {\n  %4 = matmul %1, %2 : tensor<4x1x8xf32> loc(\"fc\")\n  %5 = add %4, %3 : tensor<4x1x8xf32> loc(\"bias\")\n  %6 = sigmoid %5 : tensor<4x1x8xf32> loc(\"gate\")\n  %7 = mul %0, %6 : tensor<4x64x8xf32> loc(\"scale\")\n}";
    let program = kiln_ir::text::parse_program(text).unwrap();
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(kiln_compiler::Phase::DispatchCreation),
        ..Default::default()
    };
    let Ok(CompileOutput::Text(kernels)) = kiln_compiler::compile_program(program, &opts) else {
        panic!("no dispatch-creation text");
    };
    let gates: Vec<&str> = kernels.lines().filter(|l| l.contains("sigmoid")).collect();
    assert!(
        gates.len() == 1 && gates[0].contains("matmul") && gates[0].contains("epilogue"),
        "the gate is not the matmul's epilogue alone:\n{kernels}"
    );
    let ramp = |shape: &[usize], scale: f32| {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|i| (i % 11) as f32 * scale - 0.4).collect();
        HostTensor::from_f32(shape, &values)
    };
    let inputs = [
        ramp(&[4, 64, 8], 0.1),
        ramp(&[4, 1, 16], 0.07),
        ramp(&[16, 8], 0.05),
        ramp(&[8], 0.2),
    ];
    run_ir_close(text, &inputs, 1e-5);
    // The gate used twice (`x · s + s`, a converging value): the branch broadcast 64-fold
    // stores it, and the other branch must still read the matmul's own result.
    let twice = "func @main(%0 \"x\": tensor<4x64x8xf32>, %1 \"p\": tensor<4x1x16xf32>, %2 \"w\": tensor<16x8xf32>, %3 \"b\": tensor<8xf32>) -> (%8 \"y\") {\n  %4 = matmul %1, %2 : tensor<4x1x8xf32> loc(\"fc\")\n  %5 = add %4, %3 : tensor<4x1x8xf32> loc(\"bias\")\n  %6 = sigmoid %5 : tensor<4x1x8xf32> loc(\"gate\")\n  %7 = mul %0, %6 : tensor<4x64x8xf32> loc(\"scale\")\n  %8 = add %7, %6 : tensor<4x64x8xf32> loc(\"shift\")\n}";
    run_ir_close(twice, &inputs, 1e-5);
}

#[test]
fn integer_and_cast_semantics_match_the_interpreter() {
    // Division by zero gives 0, casts saturate and wrap, comparisons give bools.
    let text = "func @main(%0 \"a\": tensor<6xi64>, %1 \"b\": tensor<6xi64>, %2 \"x\": tensor<6xf32>) -> (%3 \"q\", %5 \"c\", %6 \"w\", %7 \"lt\") {\n  %3 = div %0, %1 : tensor<6xi64> loc(\"d\")\n  %4 = mul %2, %2 : tensor<6xf32> loc(\"m\")\n  %5 = cast {to = i32} %4 : tensor<6xi32> loc(\"c\")\n  %6 = cast {to = i8} %0 : tensor<6xi8> loc(\"w\")\n  %7 = less %2, %4 : tensor<6xi1> loc(\"l\")\n}";
    let a = HostTensor::from_f64(
        ElementType::I64,
        &[6],
        &[7.0, -7.0, 300.0, 5.0, -129.0, 0.0],
    );
    let b = HostTensor::from_f64(ElementType::I64, &[6], &[2.0, 2.0, 0.0, -1.0, 3.0, 0.0]);
    let x = HostTensor::from_f32(&[6], &[0.5, -3.5, 1e5, f32::NAN, 2.0, -0.0]);
    run_ir(text, &[a, b, x]);
    // The edges of float-to-int saturation, and powf's special cases.
    let text = "func @main(%0 \"x\": tensor<6xf32>, %1 \"b\": tensor<6xf32>, %2 \"e\": tensor<6xf32>) -> (%3 \"i\", %4 \"p\") {\n  %3 = cast {to = i64} %0 : tensor<6xi64> loc(\"c\")\n  %4 = pow %1, %2 : tensor<6xf32> loc(\"p\")\n}";
    let below = f32::from_bits(0x5eff_ffff);
    let x = HostTensor::from_f32(&[6], &[below, -below, 9.3e18, -9.3e18, f32::INFINITY, 1.5]);
    let b = HostTensor::from_f32(&[6], &[1.0, -1.0, -0.0, -2.0, -2.0, 0.0]);
    let e = HostTensor::from_f32(&[6], &[f32::NAN, f32::INFINITY, -3.0, 3.0, 2.0, 0.0]);
    run_ir(text, &[x, b, e]);
}

/// Narrow integers wrap as NumPy's do after every op, also inside a fused body where the
/// sum is compared before anything is stored.
#[test]
fn narrow_unsigned_arithmetic_wraps_before_it_is_compared() {
    let text = "func @main(%0 \"a\": tensor<4xui8>, %1 \"b\": tensor<4xui8>, %2 \"c\": tensor<4xui16>) -> (%4 \"gt\", %5 \"s\") {\n  %3 = add %0, %1 : tensor<4xui8> loc(\"s\")\n  %4 = greater %3, %0 : tensor<4xi1> loc(\"g\")\n  %5 = sub %2, %2 : tensor<4xui16> loc(\"d\")\n}";
    let a = HostTensor::from_f64(ElementType::U8, &[4], &[200.0, 1.0, 255.0, 0.0]);
    let b = HostTensor::from_f64(ElementType::U8, &[4], &[100.0, 2.0, 1.0, 0.0]);
    let c = HostTensor::from_f64(ElementType::U16, &[4], &[65535.0, 0.0, 7.0, 1.0]);
    let out = run_ir(text, &[a, b, c]);
    // 200+100 wraps to 44 and 255+1 to 0, neither greater than a.
    assert_eq!(out[0].to_f64(), [0.0, 1.0, 0.0, 0.0]);
    assert_eq!(out[1].to_f64(), [0.0; 4]);
}

/// GatherElements and GatherND flatten their data; an index past its dim must not read a
/// neighbouring row's element instead.
#[test]
fn element_gathers_refuse_indices_outside_their_dims() {
    let x = HostTensor::from_f32(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let cases = [
        (
            "GatherElements",
            vec![int_attr("axis", 1)],
            vec![2, 1],
            [3.0, 0.0],
        ),
        ("GatherND", vec![], vec![1, 2], [0.0, 3.0]),
    ];
    for (op, attrs, index_shape, bad) in cases {
        let idx = HostTensor::from_f64(ElementType::I64, &index_shape, &bad);
        let declared = [index_shape[0] as i64];
        let program = one_node_program(op, attrs, &x, &[("i", idx)], &declared);
        for config in configurations() {
            let err = run_on(&program, config, std::slice::from_ref(&x)).unwrap_err();
            assert!(
                err.to_string().contains("out of range"),
                "{op} {config:?}: {err}"
            );
        }
    }
}

#[test]
fn out_of_range_gather_indices_are_errors_on_every_device() {
    let text = "func @main(%0 \"t\": tensor<4x3xf32>, %1 \"i\": tensor<2xi64>) -> (%2 \"y\") {\n  %2 = gather {axis = 0} %0, %1 : tensor<2x3xf32> loc(\"g\")\n}";
    let program = kiln_ir::text::parse_program(text).unwrap();
    let table = HostTensor::from_f32(&[4, 3], &[1.0; 12]);
    for config in configurations() {
        let ok = HostTensor::from_f64(ElementType::I64, &[2], &[-1.0, 3.0]);
        let got = run_on(&program, config, &[table.clone(), ok]).unwrap();
        assert_eq!(got[0].to_f32(), vec![1.0; 6], "{config:?}");
        let bad = HostTensor::from_f64(ElementType::I64, &[2], &[0.0, 4.0]);
        let err = run_on(&program, config, &[table.clone(), bad]).unwrap_err();
        assert!(
            err.to_string().contains("out of range"),
            "{config:?}: {err}"
        );
    }
}

#[test]
fn half_precision_models_compute_in_f32() {
    let x = HostTensor::from_f64(
        ElementType::F16,
        &[4, 8],
        &(0..32).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<_>>(),
    );
    let w = HostTensor::from_f64(
        ElementType::F16,
        &[8, 6],
        &(0..48).map(|i| (i as f64 * 0.11).cos()).collect::<Vec<_>>(),
    );
    let text = "func @main(%0 \"x\": tensor<4x8xf16>, %1 \"w\": tensor<8x6xf16>) -> (%5 \"y\") {\n  %2 = matmul %0, %1 : tensor<4x6xf16> loc(\"mm\")\n  %3 = relu %2 : tensor<4x6xf16> loc(\"r\")\n  %4 = softmax {axis = 1} %3 : tensor<4x6xf16> loc(\"s\")\n  %5 = layer_norm {axis = 1, epsilon = 1e-5} %4 : tensor<4x6xf16> loc(\"ln\")\n}";
    run_ir_close(text, &[x, w], 1e-2);
    let img = HostTensor::from_f64(
        ElementType::BF16,
        &[1, 2, 5, 5],
        &(0..50).map(|i| (i as f64 * 0.21).sin()).collect::<Vec<_>>(),
    );
    let k = HostTensor::from_f64(
        ElementType::BF16,
        &[3, 2, 3, 3],
        &(0..54).map(|i| (i as f64 * 0.13).cos()).collect::<Vec<_>>(),
    );
    let conv = "func @main(%0 \"x\": tensor<1x2x5x5xbf16>, %1 \"k\": tensor<3x2x3x3xbf16>) -> (%3 \"y\") {\n  %2 = conv2d {strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 1} %0, %1 : tensor<1x3x5x5xbf16> loc(\"c\")\n  %3 = pool2d {kind = max, kernel = [2, 2], strides = [1, 1], pads = [0, 0, 0, 0], count_include_pad = 0} %2 : tensor<1x3x4x4xbf16> loc(\"p\")\n}";
    run_ir_close(conv, &[img, k], 2e-2);
}

#[test]
fn native_code_for_another_cpu_is_refused_with_the_reason() {
    let text = "func @main(%0 \"x\": tensor<4xf32>) -> (%1 \"y\") {\n  %1 = relu %0 : tensor<4xf32> loc(\"r\")\n}";
    let program = kiln_ir::text::parse_program(text).unwrap();
    // Another architecture: the module has no executable this device can load.
    let mut opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        ..Default::default()
    };
    opts.llvm_cpu.triple = "aarch64-unknown-linux-gnu".into();
    opts.llvm_cpu.cpu = "generic".into();
    let CompileOutput::Module(bytes) =
        kiln_compiler::compile_program(program.clone(), &opts).unwrap()
    else {
        unreachable!()
    };
    let err = load(&bytes).err().expect("refused").to_string();
    assert!(err.contains("embedded-elf-arm_64"), "{err}");
    // This architecture, but a CPU feature this machine lacks.
    let device = kiln_tools::registry()
        .create_device("local-task", &Default::default())
        .unwrap();
    let kernels = kiln_vmvx::Executable { kernels: vec![] };
    let mut exe = kiln_codegen_llvm::compile(&kernels.kernels, &Default::default()).unwrap();
    exe.features.push("avx10.9-imaginary".into());
    let format = kiln_native::host_format().unwrap();
    let err = device
        .load_executable(format, &exe.encode())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("needs CPU features this machine lacks: avx10.9-imaginary"),
        "{err}"
    );
    // A GEMM tile of a shape the drivers do not know, or one the object does not define.
    let generated = kiln_codegen_llvm::CpuTarget {
        ukernels: "none".into(),
        ..Default::default()
    };
    let exe = kiln_codegen_llvm::compile(&kernels.kernels, &generated).unwrap();
    assert!(exe.tile.is_some());
    let refusal = |edit: &dyn Fn(&mut kiln_native::NativeTile)| {
        let mut bad = exe.clone();
        edit(bad.tile.as_mut().unwrap());
        device
            .load_executable(format, &bad.encode())
            .err()
            .expect("refused")
            .to_string()
    };
    let err = refusal(&|t| t.mr = 5);
    assert!(err.contains("GEMM tile is 5x"), "{err}");
    let err = refusal(&|t| t.symbol = "no_such_tile".into());
    assert!(
        err.contains("does not define its GEMM tile 'no_such_tile'"),
        "{err}"
    );
}

#[test]
fn llvm_cpu_exp_erf_and_sigmoid_are_accurate_everywhere() {
    // llvm-cpu computes exp, erf and sigmoid inline (so loops vectorise): compare with f64
    // references over their whole range, the edges included.
    let mut xs: Vec<f32> = (-2200..=1800).map(|i| i as f32 * 0.05).collect();
    xs.extend([
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        88.72,
        88.73,
        -103.0,
        -104.5,
        87.5,
        -87.5,
        -88.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]);
    let n = xs.len();
    let text = format!("func @main(%0 \"x\": tensor<{n}xf32>) -> (%1 \"e\", %2 \"f\", %3 \"s\") {{\n  %1 = exp %0 : tensor<{n}xf32> loc(\"e\")\n  %2 = erf %0 : tensor<{n}xf32> loc(\"f\")\n  %3 = sigmoid %0 : tensor<{n}xf32> loc(\"s\")\n}}");
    let program = kiln_ir::text::parse_program(&text).unwrap();
    let got = run_on(
        &program,
        ("llvm-cpu", "local-task"),
        &[HostTensor::from_f32(&[n], &xs)],
    )
    .unwrap();
    let (e, f, s) = (got[0].to_f32(), got[1].to_f32(), got[2].to_f32());
    for (i, &x) in xs.iter().enumerate() {
        let want_e = (x as f64).exp() as f32;
        let want_f = libm::erf(x as f64) as f32;
        let want_s = (1.0 / (1.0 + (-x as f64).exp())) as f32;
        for (name, g, w, tol) in [
            ("exp", e[i], want_e, 3e-7),
            ("erf", f[i], want_f, 5e-7),
            ("sigmoid", s[i], want_s, 3e-7),
        ] {
            let ok = if w.is_nan() {
                g.is_nan()
            } else if w.is_infinite() || w == 0.0 {
                g == w || (w == 0.0 && g.abs() < 1e-44)
            } else {
                ((g - w) / w).abs() <= tol || (g - w).abs() < 1e-37
            };
            assert!(ok, "{name}({x}) = {g}, want {w}");
        }
    }
}

/// A depthwise convolution's output reshaped (a view of other dims of the same bytes) into
/// another depthwise convolution's input, between generic kernels: llvm-cpu lays out
/// channels-last only images seen in one shape, and every value agrees with the
/// interpreter.
#[test]
fn reshaped_depthwise_images_keep_one_layout() {
    let text = "func @main(%0 \"x\": tensor<1x8x6x6xf32>, %1 \"w\": tensor<8x1x3x3xf32>, %2 \"v\": tensor<4x1x3x3xf32>) -> (%6 \"y\") {\n  %7 = relu %0 : tensor<1x8x6x6xf32> loc(\"p\")\n  %3 = conv2d {strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 8} %7, %1 : tensor<1x8x6x6xf32> loc(\"a\")\n  %4 = reshape {shape = [2, 4, 6, 6]} %3 : tensor<2x4x6x6xf32> loc(\"r\")\n  %5 = conv2d {strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 4} %4, %2 : tensor<2x4x6x6xf32> loc(\"b\")\n  %6 = reduce {kind = mean, axes = [3], keep_dims = 0} %5 : tensor<2x4x6xf32> loc(\"m\")\n}";
    let ramp = |shape: &[usize]| {
        let n = shape.iter().product::<usize>();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 23) as f32 / 11.0 - 1.0)
            .collect();
        HostTensor::from_f32(shape, &v)
    };
    let inputs = [
        ramp(&[1, 8, 6, 6]),
        ramp(&[8, 1, 3, 3]),
        ramp(&[4, 1, 3, 3]),
    ];
    run_ir_close(text, &inputs, 1e-5);
}

#[test]
fn windows_reaching_past_the_input_compute_from_padding() {
    // The last taps of a 5-wide kernel on a 2-wide row with right padding 3 read only padding.
    let conv = "func @main(%0 \"x\": tensor<1x1x1x2xf32>, %1 \"w\": tensor<1x1x1x5xf32>) -> (%2 \"y\") {\n  %2 = conv2d {strides = [1, 1], pads = [0, 0, 0, 3], dilations = [1, 1], groups = 1} %0, %1 : tensor<1x1x1x1xf32> loc(\"c\")\n}";
    let x = HostTensor::from_f32(&[1, 1, 1, 2], &[2.0, 3.0]);
    let w = HostTensor::from_f32(&[1, 1, 1, 5], &[1.0, 10.0, 100.0, 1000.0, 10000.0]);
    let y = run_ir(conv, &[x.clone(), w]);
    assert_eq!(y[0].to_f32(), vec![32.0]);
    // Two output channels take the im2col + GEMM path (one channel is depthwise).
    let im2col = "func @main(%0 \"x\": tensor<1x1x1x2xf32>, %1 \"w\": tensor<2x1x1x5xf32>) -> (%2 \"y\") {\n  %2 = conv2d {strides = [1, 1], pads = [0, 0, 0, 3], dilations = [1, 1], groups = 1} %0, %1 : tensor<1x2x1x1xf32> loc(\"c\")\n}";
    let w2 = HostTensor::from_f32(
        &[2, 1, 1, 5],
        &[1.0, 10.0, 100.0, 1000.0, 10000.0, 2.0, 1.0, 0.0, 0.0, 5.0],
    );
    assert_eq!(
        run_ir(im2col, &[x.clone(), w2])[0].to_f32(),
        vec![32.0, 7.0]
    );
    let pool = "func @main(%0 \"x\": tensor<1x1x1x2xf32>) -> (%1 \"y\") {\n  %1 = pool2d {kind = max, kernel = [1, 5], strides = [1, 1], pads = [0, 0, 0, 3], count_include_pad = 0} %0 : tensor<1x1x1x1xf32> loc(\"p\")\n}";
    assert_eq!(run_ir(pool, &[x])[0].to_f32(), vec![3.0]);
}

/// A convolution: input and weight shapes, strides, pads (top, left, bottom, right),
/// dilations, groups.
type ConvCase = ([usize; 4], [usize; 4], [i64; 2], [i64; 4], [i64; 2], i64);

/// The output height and width of `case`'s convolution.
fn conv_output_plane((xs, ws, strides, pads, dilations, _): &ConvCase) -> [i64; 2] {
    [0, 1].map(|d| {
        let (k, dl, s) = (ws[2 + d] as i64, dilations[d], strides[d]);
        (xs[2 + d] as i64 + pads[d] + pads[d + 2] - (k - 1) * dl - 1) / s + 1
    })
}

/// Runs `program` on `inputs` on every configuration: its first result agrees with the
/// interpreter's within 1e-4 (relative above 1); `what` names the case in a failure.
fn assert_agrees_with_interpreter(program: &kiln_ir::Program, inputs: &[HostTensor], what: &str) {
    let expected = kiln_ir::interp::run(program, "main", inputs).unwrap();
    for config in configurations() {
        let got = run_on(program, config, inputs).unwrap();
        for (a, e) in got[0].to_f64().iter().zip(expected[0].to_f64()) {
            assert!(
                (a - e).abs() <= 1e-4 * e.abs().max(1.0),
                "{what} on {config:?}: {a} vs {e}"
            );
        }
    }
}

/// Convolutions with constant weights (which llvm-cpu packs at compile time) over the shapes
/// that pick each path: channels as GEMM rows reading a padded, phase-split band in place
/// (strides 1 and 2, asymmetric pads, ragged strips) or im2col panels (a band that would compute
/// too many extra columns), pixels as GEMM rows (many channels on a small image, with dilation,
/// groups, two images, channel tiles split across workgroups), and either orientation reading
/// an input laid out once by a `conv_band` dispatch where workgroups would repeat it; every
/// configuration agrees with the reference interpreter.
#[test]
fn convolutions_with_constant_weights_match_the_interpreter() {
    let mut seed = 17u64;
    let mut random = |shape: &[usize]| random_f32(&mut seed, shape);
    let cases: [ConvCase; 20] = [
        (
            [1, 5, 24, 30],
            [40, 5, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        (
            [1, 3, 17, 13],
            [36, 3, 5, 3],
            [2, 2],
            [2, 1, 2, 1],
            [1, 1],
            1,
        ),
        ([1, 8, 6, 7], [70, 8, 3, 3], [1, 1], [2, 2, 2, 2], [2, 2], 1),
        (
            [2, 12, 10, 10],
            [96, 4, 3, 3],
            [1, 1],
            [0, 1, 2, 0],
            [1, 1],
            3,
        ),
        (
            [1, 128, 7, 7],
            [256, 128, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        (
            [1, 16, 5, 5],
            [24, 16, 1, 1],
            [1, 1],
            [0, 0, 0, 0],
            [1, 1],
            1,
        ),
        (
            [1, 16, 9, 9],
            [20, 16, 1, 1],
            [2, 2],
            [0, 0, 0, 0],
            [1, 1],
            1,
        ),
        ([1, 6, 4, 3], [9, 6, 3, 5], [1, 1], [1, 2, 1, 2], [1, 1], 1),
        (
            [1, 24, 30, 30],
            [96, 24, 3, 3],
            [2, 2],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        (
            [2, 3, 20, 256],
            [16, 3, 5, 5],
            [2, 2],
            [4, 4, 4, 4],
            [2, 2],
            1,
        ),
        (
            [1, 64, 12, 12],
            [128, 32, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            2,
        ),
        // A stem: three channels at stride 2, output rows wider than a register tile (and not
        // a whole number of them) written straight to the output planes.
        (
            [1, 3, 66, 98],
            [32, 3, 3, 3],
            [2, 2],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        // Pixel rows in several row tiles, the middle ones reading no padding (they share the
        // groups of the first such rows, their input moved): 3x3, stride 2, 5x5, two images.
        (
            [2, 16, 45, 45],
            [32, 16, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        (
            [1, 24, 50, 50],
            [32, 24, 3, 3],
            [2, 2],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        (
            [1, 8, 30, 30],
            [32, 8, 5, 5],
            [1, 1],
            [2, 2, 2, 2],
            [1, 1],
            1,
        ),
        // Channel rows through im2col panels: a wide dilated window on a narrow output.
        (
            [1, 4, 10, 40],
            [40, 4, 3, 9],
            [1, 1],
            [0, 0, 0, 0],
            [1, 4],
            1,
        ),
        // Channel rows whose row tiles would repeat the band: a conv_band lays it out once.
        (
            [1, 32, 8, 64],
            [40, 32, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        // Pixel rows on a stride-2 input whose height and width leave a remainder, with uneven
        // padding: border pixels skip the taps that read only padding.
        (
            [1, 96, 15, 13],
            [256, 96, 3, 3],
            [2, 2],
            [1, 0, 2, 1],
            [1, 1],
            1,
        ),
        // Padding wider than the window: the first output row reads no input at all (and with
        // one input channel its first tap lies past the last weight row of the strip).
        ([1, 1, 6, 6], [64, 1, 3, 3], [1, 1], [3, 1, 1, 1], [1, 1], 1),
        (
            [1, 48, 9, 8],
            [64, 48, 3, 3],
            [1, 1],
            [2, 3, 2, 1],
            [2, 2],
            1,
        ),
    ];
    let mut paths = std::collections::BTreeSet::new();
    for case in cases {
        let (xs, ws, strides, pads, dilations, group) = case;
        let (x, w, b) = (random(&xs), random(&ws), random(&[ws[0]]));
        let out = |d: usize| conv_output_plane(&case)[d];
        let attrs = vec![
            ints("strides", &strides),
            ints("pads", &pads),
            ints("dilations", &dilations),
            int_attr("group", group),
        ];
        let out_dims = [xs[0] as i64, ws[0] as i64, out(0), out(1)];
        let program = one_node_program("Conv", attrs, &x, &[("w", w), ("b", b)], &out_dims);
        let opts = CompileOptions {
            targets: vec!["llvm-cpu".into()],
            compile_to: Some(kiln_compiler::Phase::Hal),
            ..Default::default()
        };
        // Which paths llvm-cpu takes: (input laid out by a conv_band dispatch, pixel rows).
        if let Ok(CompileOutput::Text(t)) = kiln_compiler::compile_program(program.clone(), &opts) {
            paths.insert((t.contains("conv_band"), t.contains("pixel_rows")));
        }
        assert_agrees_with_interpreter(&program, &[x], &format!("x {xs:?} w {ws:?}"));
    }
    // Pixel rows read the input planes in place: no conv_band before them.
    let every = [(false, false), (false, true), (true, false)];
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), every);
}

/// A stem on a wide image (three channels at stride 2, output rows of 300 pixels): row tiles of
/// one row would lay its band out twice over, so llvm-cpu makes them taller (4 rows), each
/// workgroup laying out its own rows' lines in cache, rather than a `conv_band` dispatch
/// writing the whole band out for the convolution to read back; it agrees with the reference
/// interpreter.
#[test]
fn a_wide_stem_lays_out_its_band_in_taller_row_tiles() {
    let mut seed = 29u64;
    let case: ConvCase = (
        [1, 3, 160, 600],
        [16, 3, 3, 3],
        [2, 2],
        [1, 1, 1, 1],
        [1, 1],
        1,
    );
    let (xs, ws, strides, pads, dilations, group) = case;
    let (x, w, b) = (
        random_f32(&mut seed, &xs),
        random_f32(&mut seed, &ws),
        random_f32(&mut seed, &[ws[0]]),
    );
    let [oh, ow] = conv_output_plane(&case);
    let attrs = vec![
        ints("strides", &strides),
        ints("pads", &pads),
        ints("dilations", &dilations),
        int_attr("group", group),
    ];
    let out_dims = [1, ws[0] as i64, oh, ow];
    let program = one_node_program("Conv", attrs, &x, &[("w", w), ("b", b)], &out_dims);
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(kiln_compiler::Phase::Hal),
        ..Default::default()
    };
    let Ok(CompileOutput::Text(hal)) = kiln_compiler::compile_program(program.clone(), &opts)
    else {
        panic!("the stem does not compile to HAL text");
    };
    assert!(!hal.contains("conv_band"), "{hal}");
    // `tile CxR`: whatever the channel tile (the host's register tile rounds it), 4 rows.
    let tile = hal.split(" tile ").nth(1).and_then(|t| t.split(' ').next());
    assert!(tile.is_some_and(|t| t.ends_with("x4")), "{hal}");
    assert_agrees_with_interpreter(&program, &[x], "a wide stem");
}

/// Values in `[-0.5, 0.5)` of `shape` from a linear congruential generator at `seed`.
fn random_f32(seed: &mut u64, shape: &[usize]) -> HostTensor {
    let len = shape.iter().product::<usize>();
    let values: Vec<f32> = (0..len)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    HostTensor::from_f32(shape, &values)
}

/// A model of `x` through a pointwise convolution (as many channels as `x`) into `a`, the node
/// `middle` from `a` to `b` (of `b_dims`, its constants `consts`), and a pointwise convolution
/// into 32 channels `y`: llvm-cpu keeps `a` and `b` channels-last where `middle` takes them.
fn between_pointwise_convolutions(
    seed: &mut u64,
    x: &HostTensor,
    middle: NodeProto,
    consts: Vec<(&str, HostTensor)>,
    b_dims: [i64; 4],
) -> kiln_ir::Program {
    let (cin, cmid) = (x.shape[1], b_dims[1] as usize);
    let mut consts = consts;
    consts.extend([
        ("w0", random_f32(seed, &[cin, cin, 1, 1])),
        ("b0", random_f32(seed, &[cin])),
        ("w2", random_f32(seed, &[32, cmid, 1, 1])),
        ("b2", random_f32(seed, &[32])),
    ]);
    let conv = |input, output, w, b| node("Conv", &[input, w, b], &[output], vec![]);
    let mut model = one_node_model("Relu", vec![], x, &[], &[1], 17);
    let graph = model.graph.as_mut().unwrap();
    graph.node = vec![
        conv("x", "a", "w0", "b0"),
        middle,
        conv("b", "y", "w2", "b2"),
    ];
    graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
    graph.output = vec![tensor_info("y", 1, &[b_dims[0], 32, b_dims[2], b_dims[3]])];
    kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap()
}

/// The node `op` from `input` to `output`, named after its first output.
fn node(op: &str, input: &[&str], output: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: input.iter().map(|s| s.to_string()).collect(),
        output: output.iter().map(|s| s.to_string()).collect(),
        name: Some(output[0].into()),
        op_type: Some(op.into()),
        domain: None,
        attribute,
    }
}

/// The node `op` from `a` (and `constants`) to `b`.
fn middle_node(op: &str, constants: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    let mut input = vec!["a"];
    input.extend(constants);
    node(op, &input, &["b"], attribute)
}

/// llvm-cpu's HAL text of `program`.
fn llvm_cpu_hal(program: kiln_ir::Program) -> String {
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into()],
        compile_to: Some(kiln_compiler::Phase::Hal),
        ..Default::default()
    };
    let Ok(CompileOutput::Text(hal)) = kiln_compiler::compile_program(program, &opts) else {
        panic!("hal text expected")
    };
    hal
}

/// How the HAL text shows a channels-last f32 view of a whole `[n, c, h, w]` image: its shape
/// and strides `[h·w·c, 1, w·c, c]`.
fn channels_last_view([n, c, h, w]: [i64; 4]) -> String {
    format!("{n}x{c}x{h}x{w}xf32]/{},1,{},{c}", c * h * w, w * c)
}

/// Whether llvm-cpu's HAL text of `program` has a `kind` kernel reading `x` and writing `y`
/// channels-last (strides `[h·w·c, 1, w·c, c]`); the text, for a failure's message.
fn reads_and_writes_channels_last(
    program: &kiln_ir::Program,
    kind: &str,
    x: [i64; 4],
    y: [i64; 4],
) -> (bool, String) {
    let hal = llvm_cpu_hal(program.clone());
    let found = hal.lines().any(|l| {
        l.contains(&format!(" = {kind} "))
            && l.contains(&format!("#0[{}", channels_last_view(x)))
            && l.contains(&format!(
                "-> #{}[{}",
                if kind == "conv2d" { 2 } else { 1 },
                channels_last_view(y)
            ))
    });
    (found, hal)
}

/// Convolutions whose input and output other convolutions read and write, which llvm-cpu
/// stores channels-last (their GEMMs with pixel rows, the middle one's weights packed tap by
/// tap): strides, uneven padding, dilation, groups, a non-square window and an image 40
/// wide, each between two pointwise convolutions, and a depthwise one over the whole image.
/// Every value agrees with the interpreter on every target, and llvm-cpu reads and writes the
/// middle convolution's images channels-last (where the output has more than one pixel).
#[test]
fn convolutions_between_channels_last_images_match_the_interpreter() {
    let mut seed = 29u64;
    let cases: [ConvCase; 6] = [
        (
            [1, 48, 9, 8],
            [64, 48, 3, 3],
            [1, 1],
            [2, 3, 2, 1],
            [2, 2],
            1,
        ),
        (
            [1, 96, 15, 13],
            [256, 96, 3, 3],
            [2, 2],
            [1, 0, 2, 1],
            [1, 1],
            1,
        ),
        (
            [2, 64, 12, 12],
            [128, 32, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            2,
        ),
        (
            [1, 40, 6, 7],
            [48, 40, 3, 5],
            [1, 1],
            [1, 2, 1, 2],
            [1, 1],
            1,
        ),
        (
            [1, 32, 6, 40],
            [64, 32, 3, 3],
            [1, 1],
            [1, 1, 1, 1],
            [1, 1],
            1,
        ),
        // Depthwise over the whole image: one output pixel, both layouts alike.
        (
            [1, 32, 7, 7],
            [32, 1, 7, 7],
            [1, 1],
            [0, 0, 0, 0],
            [1, 1],
            32,
        ),
    ];
    for case in cases {
        let (xs, ws, strides, pads, dilations, group) = case;
        let [oh, ow] = conv_output_plane(&case);
        let b_dims = [xs[0] as i64, ws[0] as i64, oh, ow];
        let x = random_f32(&mut seed, &xs);
        let consts = vec![
            ("w1", random_f32(&mut seed, &ws)),
            ("b1", random_f32(&mut seed, &[ws[0]])),
        ];
        let attrs = vec![
            ints("strides", &strides),
            ints("pads", &pads),
            ints("dilations", &dilations),
            int_attr("group", group),
        ];
        let middle = middle_node("Conv", &["w1", "b1"], attrs);
        let program = between_pointwise_convolutions(&mut seed, &x, middle, consts, b_dims);
        let a_dims = xs.map(|d| d as i64);
        if oh * ow > 1 {
            let (found, hal) = reads_and_writes_channels_last(&program, "conv2d", a_dims, b_dims);
            assert!(found, "x {xs:?} w {ws:?}: {hal}");
        }
        assert_agrees_with_interpreter(&program, &[x], &format!("x {xs:?} w {ws:?}"));
    }
}

/// Max and average pooling between convolutions, which llvm-cpu runs over channels-last
/// images (a workgroup per output row of every channel): strides, padding counted or not, a
/// window reaching past the image, two images, a window over the whole image. Every value
/// agrees with the interpreter on every target.
#[test]
fn poolings_between_channels_last_images_match_the_interpreter() {
    let mut seed = 31u64;
    /// Input shape, pooling, window, strides, pads (top, left, bottom, right),
    /// count_include_pad.
    type PoolCase = ([usize; 4], &'static str, i64, i64, [i64; 4], i64);
    let cases: [PoolCase; 5] = [
        ([1, 24, 13, 11], "MaxPool", 3, 2, [1, 1, 1, 1], 0),
        ([2, 40, 8, 8], "MaxPool", 2, 2, [0, 0, 0, 0], 0),
        ([1, 20, 9, 10], "AveragePool", 3, 1, [1, 1, 1, 1], 0),
        ([1, 36, 7, 9], "AveragePool", 3, 2, [1, 0, 2, 1], 1),
        // A window over the whole image: one output pixel, both layouts alike.
        ([1, 16, 7, 7], "AveragePool", 7, 1, [0, 0, 0, 0], 0),
    ];
    for (xs, op, k, s, pads, count_include_pad) in cases {
        let out = |d: usize| (xs[2 + d] as i64 + pads[d] + pads[d + 2] - k) / s + 1;
        let b_dims = [xs[0] as i64, xs[1] as i64, out(0), out(1)];
        let x = random_f32(&mut seed, &xs);
        let mut attrs = vec![
            ints("kernel_shape", &[k, k]),
            ints("strides", &[s, s]),
            ints("pads", &pads),
        ];
        if op == "AveragePool" {
            attrs.push(int_attr("count_include_pad", count_include_pad));
        }
        let middle = middle_node(op, &[], attrs);
        let program = between_pointwise_convolutions(&mut seed, &x, middle, vec![], b_dims);
        let a_dims = xs.map(|d| d as i64);
        if b_dims[2] * b_dims[3] > 1 {
            let (found, hal) = reads_and_writes_channels_last(&program, "pool2d", a_dims, b_dims);
            assert!(found, "{op} x {xs:?}: {hal}");
        }
        assert_agrees_with_interpreter(&program, &[x], &format!("{op} x {xs:?}"));
    }
}

/// Reductions of a convolution's output between pointwise convolutions: means and maxima
/// over each channel's pixels (a squeeze-and-excitation block's), which llvm-cpu reads
/// channels-last a pixel's channels at a time — channels fewer than a workgroup's tile, a
/// ragged last tile, tiles wider than its accumulators — and reductions it keeps planar
/// (along rows, over the channels, over every dim), and a global average pooling. Every value
/// agrees with the interpreter on every target.
#[test]
fn reductions_of_channels_last_images_match_the_interpreter() {
    let mut seed = 37u64;
    /// Op, input dims, axes (none for GlobalAveragePool).
    type ReduceCase = (&'static str, [usize; 4], &'static [i64]);
    let cases: [ReduceCase; 7] = [
        ("ReduceMean", [2, 48, 9, 11], &[2, 3]),
        ("ReduceMax", [2, 200, 16, 16], &[2, 3]),
        ("ReduceMean", [1, 1100, 4, 4], &[2, 3]),
        ("ReduceMax", [2, 48, 9, 11], &[3]),
        ("ReduceMean", [2, 48, 9, 11], &[1]),
        ("ReduceMean", [2, 48, 9, 11], &[1, 2, 3]),
        ("GlobalAveragePool", [2, 48, 9, 11], &[]),
    ];
    for (op, x_dims, axes) in cases {
        let x = random_f32(&mut seed, &x_dims);
        let [n, c, h, w] = x_dims.map(|d| d as i64);
        // GlobalAveragePool reduces the pixels, as axes [2, 3] do.
        let reduces = |i: i64| axes.contains(&i) || (axes.is_empty() && i >= 2);
        let reduced = |d: i64, i: i64| if reduces(i) { 1 } else { d };
        let b_dims = [n, reduced(c, 1), reduced(h, 2), reduced(w, 3)];
        let attrs = match axes {
            [] => vec![],
            axes => vec![ints("axes", axes), int_attr("keepdims", 1)],
        };
        let middle = middle_node(op, &[], attrs);
        let program = between_pointwise_convolutions(&mut seed, &x, middle, vec![], b_dims);
        if axes == [2, 3] {
            let image = format!("#0[{}", channels_last_view([n, c, h, w]));
            let hal = llvm_cpu_hal(program.clone());
            let read = |l: &&str| l.contains(" = generic ") && l.contains("reduce");
            assert!(
                hal.lines().filter(read).any(|l| l.contains(&image)),
                "{op} {x_dims:?} {axes:?}: {hal}"
            );
        }
        assert_agrees_with_interpreter(&program, &[x], &format!("{op} {x_dims:?} {axes:?}"));
    }
}

/// A pointwise convolution into a depthwise one (a MobileNet's expansion), which llvm-cpu
/// fuses into one `pointwise_depthwise` dispatch on planar images: strides 1 and 2, 3×3 and
/// 5×5 windows, dilation, asymmetric pads, a window whose border rows read only padding,
/// channels not a whole number of strips, two images, the pointwise convolution with or
/// without bias and with ReLU, ReLU6, swish or no activation, the depthwise one adding a
/// residual — unfused where that residual is the expanded image itself, which the fused
/// kernel never writes. Every value agrees with the interpreter on every target.
#[test]
fn fused_pointwise_and_depthwise_convolutions_match_the_interpreter() {
    let mut seed = 43u64;
    /// Input dims, expanded channels, window, stride, pads, dilation, the pointwise
    /// convolution's bias and activation ("" none, "Relu", "Clip" to [0, 6], "Swish": the
    /// value times its sigmoid), the residual ("r" a constant, "a" the expanded image).
    type PairCase = (
        [usize; 4],
        usize,
        i64,
        i64,
        [i64; 4],
        i64,
        bool,
        &'static str,
        &'static str,
    );
    let cases: [PairCase; 9] = [
        ([1, 8, 40, 40], 24, 3, 1, [1, 1, 1, 1], 1, true, "Clip", "r"),
        ([2, 6, 33, 29], 20, 3, 2, [1, 1, 1, 1], 1, true, "Relu", "r"),
        ([1, 5, 37, 31], 12, 5, 2, [2, 2, 2, 2], 1, false, "", "r"),
        ([1, 4, 30, 30], 16, 3, 1, [2, 2, 2, 2], 2, true, "Clip", "r"),
        (
            [1, 8, 36, 20],
            40,
            3,
            1,
            [0, 1, 2, 0],
            1,
            true,
            "Swish",
            "r",
        ),
        ([1, 4, 24, 24], 8, 1, 1, [5, 0, 5, 1], 1, true, "Clip", "r"),
        (
            [1, 16, 56, 56],
            96,
            3,
            2,
            [1, 1, 1, 1],
            1,
            true,
            "Clip",
            "r",
        ),
        (
            [1, 6, 41, 23],
            24,
            5,
            2,
            [2, 2, 2, 2],
            1,
            true,
            "Swish",
            "r",
        ),
        // The residual is the expanded image itself: read twice, it stays unfused.
        ([1, 8, 40, 40], 24, 3, 1, [1, 1, 1, 1], 1, true, "Clip", "a"),
    ];
    for (xs, cmid, k, s, pads, d, bias, act, residual) in cases {
        let x = random_f32(&mut seed, &xs);
        let out = |i: usize| (xs[2 + i] as i64 + pads[i] + pads[i + 2] - d * (k - 1) - 1) / s + 1;
        let y_dims = [xs[0] as i64, cmid as i64, out(0), out(1)];
        let mut consts = vec![
            ("w0", random_f32(&mut seed, &[cmid, xs[1], 1, 1])),
            ("b0", random_f32(&mut seed, &[cmid])),
            (
                "w1",
                random_f32(&mut seed, &[cmid, 1, k as usize, k as usize]),
            ),
            ("b1", random_f32(&mut seed, &[cmid])),
            ("lo", HostTensor::from_f32(&[], &[0.0])),
            ("hi", HostTensor::from_f32(&[], &[6.0])),
        ];
        let expand_inputs: &[&str] = if bias {
            &["x", "w0", "b0"]
        } else {
            &["x", "w0"]
        };
        let mut nodes = vec![node("Conv", expand_inputs, &["e"], vec![])];
        let mid = match act {
            "Relu" => {
                nodes.push(node("Relu", &["e"], &["a"], vec![]));
                "a"
            }
            "Clip" => {
                nodes.push(node("Clip", &["e", "lo", "hi"], &["a"], vec![]));
                "a"
            }
            "Swish" => {
                nodes.push(node("Sigmoid", &["e"], &["g"], vec![]));
                nodes.push(node("Mul", &["e", "g"], &["a"], vec![]));
                "a"
            }
            _ => "e",
        };
        let attrs = vec![
            ints("kernel_shape", &[k, k]),
            ints("strides", &[s, s]),
            ints("pads", &pads),
            ints("dilations", &[d, d]),
            int_attr("group", cmid as i64),
        ];
        nodes.push(node("Conv", &[mid, "w1", "b1"], &["c"], attrs));
        // A residual of the depthwise output's shape, read by its epilogue.
        consts.push(("r", random_f32(&mut seed, &y_dims.map(|v| v as usize))));
        nodes.push(node("Add", &["c", residual], &["y"], vec![]));
        let mut model = one_node_model("Relu", vec![], &x, &[], &[1], 17);
        let graph = model.graph.as_mut().unwrap();
        graph.node = nodes;
        graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
        graph.output = vec![tensor_info("y", 1, &y_dims)];
        let program = kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap();
        let what = format!("x {xs:?} to {cmid}, {k}x{k} stride {s} pads {pads:?} dilation {d}");
        let hal = llvm_cpu_hal(program.clone());
        let fused = hal.contains(" = pointwise_depthwise ");
        assert_eq!(fused, residual == "r", "{what}: {hal}");
        assert_agrees_with_interpreter(&program, &[x], &what);
    }
}

/// Residual blocks: a convolution or matmul whose epilogue adds a residual nothing reads
/// afterwards computes in the residual's storage, adding its product to it (llvm-cpu's HAL
/// text shows the output as `-> +#`). Two chained blocks (the first block's output the
/// second's residual) both accumulate, on one and two images; a residual read again after
/// its add, a residual added after the activation and one the same dispatch reads as its
/// input do not; matmuls do too (deeper than a depth block, or their output a result).
/// Every target agrees with the interpreter.
#[test]
fn residuals_nothing_reads_later_are_added_in_place() {
    let mut seed = 47u64;
    let pad = || vec![ints("pads", &[1, 1, 1, 1])];
    // Two blocks without activations after `a`, then `last` reading their output `y2`.
    let blocks = |last: NodeProto| {
        vec![
            node("Conv", &["a", "w1", "b1"], &["t"], vec![]),
            node("Conv", &["t", "w2", "b2"], &["u"], pad()),
            node("Add", &["u", "a"], &["y1"], vec![]),
            node("Conv", &["y1", "w1", "b1"], &["v"], vec![]),
            node("Conv", &["v", "w2", "b2"], &["z"], pad()),
            node("Add", &["z", "y1"], &["y2"], vec![]),
            last,
        ]
    };
    // (what, images, the block nodes after `a = relu(conv(x))`, their output, accumulating
    // kernels)
    type BlockCase = (&'static str, usize, Vec<NodeProto>, &'static str, usize);
    let cases: Vec<BlockCase> = vec![
        (
            "two chained blocks",
            1,
            vec![
                node("Conv", &["a", "w1", "b1"], &["t0"], vec![]),
                node("Relu", &["t0"], &["t"], vec![]),
                node("Conv", &["t", "w2", "b2"], &["u"], pad()),
                node("Add", &["u", "a"], &["s1"], vec![]),
                node("Relu", &["s1"], &["y1"], vec![]),
                node("Conv", &["y1", "w1", "b1"], &["v0"], vec![]),
                node("Relu", &["v0"], &["v"], vec![]),
                node("Conv", &["v", "w2", "b2"], &["z"], pad()),
                node("Add", &["y1", "z"], &["s2"], vec![]),
                node("Relu", &["s2"], &["y"], vec![]),
            ],
            "y",
            2,
        ),
        (
            "two chained blocks, two images",
            2,
            blocks(node("Relu", &["y2"], &["y"], vec![])),
            "y",
            2,
        ),
        (
            "the first block's output read again after the second's add",
            1,
            blocks(node("Mul", &["y2", "y1"], &["y"], vec![])),
            "y",
            1,
        ),
        (
            "the residual added after the activation",
            1,
            vec![
                node("Conv", &["a", "w1", "b1"], &["t"], vec![]),
                node("Conv", &["t", "w2", "b2"], &["u0"], pad()),
                node("Relu", &["u0"], &["u"], vec![]),
                node("Add", &["u", "a"], &["y"], vec![]),
            ],
            "y",
            0,
        ),
        (
            "the residual the convolution's input too",
            1,
            vec![
                node("Conv", &["a", "w3", "b3"], &["u"], pad()),
                node("Add", &["u", "a"], &["s"], vec![]),
                node("Relu", &["s"], &["y"], vec![]),
            ],
            "y",
            0,
        ),
    ];
    for (what, n, block, output, accumulating) in cases {
        let x = random_f32(&mut seed, &[n, 6, 10, 10]);
        let consts = [
            ("w0", random_f32(&mut seed, &[16, 6, 3, 3])),
            ("b0", random_f32(&mut seed, &[16])),
            ("w1", random_f32(&mut seed, &[8, 16, 1, 1])),
            ("b1", random_f32(&mut seed, &[8])),
            ("w2", random_f32(&mut seed, &[16, 8, 3, 3])),
            ("b2", random_f32(&mut seed, &[16])),
            ("w3", random_f32(&mut seed, &[16, 16, 3, 3])),
            ("b3", random_f32(&mut seed, &[16])),
        ];
        let mut model = one_node_model("Relu", vec![], &x, &[], &[1], 17);
        let graph = model.graph.as_mut().unwrap();
        graph.node = vec![
            node("Conv", &["x", "w0", "b0"], &["a0"], pad()),
            node("Relu", &["a0"], &["a"], vec![]),
        ];
        graph.node.extend(block);
        // A last convolution, so that the blocks' outputs are the function's own storages
        // (a result keeps the layout the caller sees).
        graph
            .node
            .push(node("Conv", &[output, "w1", "b1"], &["out"], vec![]));
        graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
        graph.output = vec![tensor_info("out", 1, &[n as i64, 8, 10, 10])];
        let program = kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap();
        let hal = llvm_cpu_hal(program.clone());
        assert_eq!(hal.matches(" -> +#").count(), accumulating, "{what}: {hal}");
        assert_agrees_with_interpreter(&program, &[x], what);
    }
    // A matmul adding a residual another matmul read before it: with a bias, its output read
    // by a last matmul; or deeper than a depth block, no bias (the epilogue goes), its output
    // the function's result.
    for (depth, bias) in [(48, true), (1100, false)] {
        let x = random_f32(&mut seed, &[1, 12, 32]);
        let consts = [
            ("m0", random_f32(&mut seed, &[32, 32])),
            ("c0", random_f32(&mut seed, &[32])),
            ("m1", random_f32(&mut seed, &[32, depth])),
            ("m2", random_f32(&mut seed, &[depth, 32])),
            ("c2", random_f32(&mut seed, &[32])),
        ];
        let mut model = one_node_model("Relu", vec![], &x, &[], &[1], 17);
        let graph = model.graph.as_mut().unwrap();
        graph.node = vec![
            node("MatMul", &["x", "m0"], &["p0"], vec![]),
            node("Add", &["p0", "c0"], &["h0"], vec![]),
            node("Relu", &["h0"], &["h"], vec![]),
            node("MatMul", &["h", "m1"], &["g0"], vec![]),
            node("Relu", &["g0"], &["g"], vec![]),
            node("MatMul", &["g", "m2"], &["p2"], vec![]),
        ];
        let output = if bias {
            graph.node.extend([
                node("Add", &["p2", "c2"], &["q"], vec![]),
                node("Add", &["h", "q"], &["y"], vec![]),
                node("MatMul", &["y", "m0"], &["out"], vec![]),
            ]);
            "out"
        } else {
            graph.node.push(node("Add", &["h", "p2"], &["y"], vec![]));
            "y"
        };
        graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
        graph.output = vec![tensor_info(output, 1, &[1, 12, 32])];
        let program = kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap();
        let hal = llvm_cpu_hal(program.clone());
        let what = format!("matmul of depth {depth} adding a residual");
        assert_eq!(hal.matches(" -> +#").count(), 1, "{what}: {hal}");
        assert_agrees_with_interpreter(&program, &[x], &what);
    }
}

/// A transpose into a convolution: a text model's `[batch, time, features]` turned
/// `[batch, features, time]` for a 1-D convolution (one and two sequences, the transposed
/// tensor a parameter or a matmul's result), and two NHWC images into NCHW. The copy goes where only
/// the convolution reads the transpose, which then reads the copied tensor in place (llvm-cpu's
/// HAL text has no copy left); it stays where another op reads it too, or the convolution is
/// depthwise. Every target agrees with the interpreter.
#[test]
fn transposes_into_convolutions_are_read_in_place() {
    let mut seed = 53u64;
    let perm = |p: &[i64]| vec![ints("perm", p)];
    let pad1 = || vec![ints("pads", &[2, 2])];
    // (what, input dims, nodes from `x` to `y`, output dims, copies left)
    type Case = (&'static str, Vec<usize>, Vec<NodeProto>, Vec<i64>, usize);
    let cases: Vec<Case> = vec![
        (
            "a parameter transposed for a 1-D convolution",
            vec![1, 40, 16],
            vec![
                node("Transpose", &["x"], &["t"], perm(&[0, 2, 1])),
                node("Conv", &["t", "w1", "b1"], &["c"], pad1()),
                node("Relu", &["c"], &["y"], vec![]),
            ],
            vec![1, 32, 40],
            0,
        ),
        (
            "a computed tensor of two sequences transposed for a 1-D convolution",
            vec![2, 40, 16],
            vec![
                node("MatMul", &["x", "m"], &["s"], vec![]),
                node("Transpose", &["s"], &["t"], perm(&[0, 2, 1])),
                node("Conv", &["t", "w1", "b1"], &["c"], pad1()),
                node("Relu", &["c"], &["y"], vec![]),
            ],
            vec![2, 32, 40],
            0,
        ),
        (
            "the transpose read by another op too",
            vec![1, 40, 16],
            vec![
                node("Transpose", &["x"], &["t"], perm(&[0, 2, 1])),
                node("Conv", &["t", "w1", "b1"], &["c"], pad1()),
                node("ReduceMean", &["t"], &["m"], vec![ints("axes", &[1])]),
                node("Add", &["c", "m"], &["y"], vec![]),
            ],
            vec![1, 32, 40],
            1,
        ),
        (
            "a depthwise convolution",
            vec![1, 40, 16],
            vec![
                node("Transpose", &["x"], &["t"], perm(&[0, 2, 1])),
                node(
                    "Conv",
                    &["t", "wd", "bd"],
                    &["y"],
                    vec![ints("pads", &[2, 2]), int_attr("group", 16)],
                ),
            ],
            vec![1, 16, 40],
            1,
        ),
        (
            "two NHWC images",
            vec![2, 12, 12, 16],
            vec![
                node("Transpose", &["x"], &["t"], perm(&[0, 3, 1, 2])),
                node(
                    "Conv",
                    &["t", "w2", "b1"],
                    &["y"],
                    vec![ints("pads", &[1, 1, 1, 1])],
                ),
            ],
            vec![2, 32, 12, 12],
            0,
        ),
    ];
    for (what, dims, nodes, out_dims, copies) in cases {
        let x = random_f32(&mut seed, &dims);
        let consts = [
            ("w1", random_f32(&mut seed, &[32, 16, 5])),
            ("b1", random_f32(&mut seed, &[32])),
            ("wd", random_f32(&mut seed, &[16, 1, 5])),
            ("bd", random_f32(&mut seed, &[16])),
            ("w2", random_f32(&mut seed, &[32, 16, 3, 3])),
            ("m", random_f32(&mut seed, &[16, 16])),
        ];
        let mut model = one_node_model("Relu", vec![], &x, &[], &[1], 17);
        let graph = model.graph.as_mut().unwrap();
        graph.node = nodes;
        graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
        graph.output = vec![tensor_info("y", 1, &out_dims)];
        let program = kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap();
        let hal = llvm_cpu_hal(program.clone());
        assert_eq!(
            hal.matches("{ r0 = in0; yield r0 }").count(),
            copies,
            "{what}: {hal}"
        );
        assert_agrees_with_interpreter(&program, &[x], what);
    }
}

/// A YOLO-style block: a pointwise convolution's channels split in two, a convolution with a
/// residual add over the second half, and the halves and that result concatenated for a last
/// pointwise convolution. With one image the split's halves and the residual add are computed
/// in place in the concat (llvm-cpu's HAL text has no copy left, and kernels read one part
/// of a binding they write another part of); with two images each image's slice lies apart,
/// and the copies stay. Every target agrees with the interpreter.
#[test]
fn split_halves_concatenated_again_are_computed_in_place() {
    let mut seed = 41u64;
    for n in [1usize, 2] {
        let x = random_f32(&mut seed, &[n, 8, 12, 12]);
        let consts = [
            ("w0", random_f32(&mut seed, &[16, 8, 1, 1])),
            ("b0", random_f32(&mut seed, &[16])),
            ("w1", random_f32(&mut seed, &[8, 8, 3, 3])),
            ("b1", random_f32(&mut seed, &[8])),
            ("w2", random_f32(&mut seed, &[8, 24, 1, 1])),
            ("b2", random_f32(&mut seed, &[8])),
            ("halves", HostTensor::from_i64(&[2], &[8, 8])),
        ];
        let mut model = one_node_model("Relu", vec![], &x, &[], &[1], 17);
        let graph = model.graph.as_mut().unwrap();
        graph.node = vec![
            node("Conv", &["x", "w0", "b0"], &["a"], vec![]),
            node(
                "Split",
                &["a", "halves"],
                &["a0", "a1"],
                vec![int_attr("axis", 1)],
            ),
            node(
                "Conv",
                &["a1", "w1", "b1"],
                &["c"],
                vec![ints("pads", &[1, 1, 1, 1])],
            ),
            node("Add", &["a1", "c"], &["d"], vec![]),
            node(
                "Concat",
                &["a0", "a1", "d"],
                &["e"],
                vec![int_attr("axis", 1)],
            ),
            node("Conv", &["e", "w2", "b2"], &["y"], vec![]),
        ];
        graph.initializer = consts.iter().map(|(n, t)| initializer(n, t)).collect();
        graph.output = vec![tensor_info("y", 1, &[n as i64, 8, 12, 12])];
        let program = kiln_import::onnx::import_bytes(&model.encode_to_vec(), None).unwrap();
        assert_agrees_with_interpreter(&program, &[x], &format!("{n} images"));
        let hal = llvm_cpu_hal(program);
        let copies = hal.matches("{ r0 = in0; yield r0 }").count();
        assert_eq!(copies == 0, n == 1, "{n} images: {copies} copies\n{hal}");
    }
}

/// A module compiled for llvm-cpu and vmvx whose native code this CPU refuses (it needs a
/// feature the machine lacks) runs its VMVX variant instead; a corrupt native executable fails
/// the load; with only the native variant, loading fails and says which feature is missing.
#[test]
fn a_refused_native_variant_falls_back_to_vmvx() {
    let text = "func @main(%0 \"x\": tensor<4xf32>) -> (%1 \"y\") {\n  %1 = relu %0 : tensor<4xf32> loc(\"r\")\n}";
    let program = kiln_ir::text::parse_program(text).unwrap();
    let opts = CompileOptions {
        targets: vec!["llvm-cpu".into(), "vmvx".into()],
        ..Default::default()
    };
    let CompileOutput::Module(bytes) = kiln_compiler::compile_program(program, &opts).unwrap()
    else {
        unreachable!()
    };
    // Make the native executable need a feature no CPU has.
    let mut m = kiln_module::Module::read(&bytes).unwrap();
    let mut native = kiln_native::Executable::decode(&m.executables[0].data).unwrap();
    native.features.push("avx10.9-imaginary".into());
    m.executables[0].data = native.encode();
    let payloads: Vec<&[u8]> = m
        .constants
        .iter()
        .map(|c| &bytes[c.offset as usize..(c.offset + c.length) as usize])
        .collect();
    let patched = m.write(&payloads);
    let loaded = load(&patched).unwrap();
    let f = loaded.function("main").unwrap();
    assert_eq!(loaded.program(f).unwrap().executables(), [1]);
    let x = HostTensor::from_f32(&[4], &[-1.0, 2.0, -3.0, 4.0]);
    let y = loaded.invoke("main", &[x]).unwrap();
    assert_eq!(y[0].to_f64(), [0.0, 2.0, 0.0, 4.0]);

    // A corrupt executable is a bad module, never a reason to fall back quietly.
    let mut corrupt = m.clone();
    corrupt.executables[0].data.truncate(40);
    let err = load(&corrupt.write(&payloads))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("executable for 'llvm-cpu'"), "{err}");

    m.executables.truncate(1);
    for f in &mut m.functions {
        f.programs.truncate(1);
    }
    let err = load(&m.write(&payloads))
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("needs CPU features this machine lacks: avx10.9-imaginary"),
        "{err}"
    );
}

/// Opsets select op versions: Relu (versions 1, 6, 13, 14) imports at opsets 6 to 28, where
/// its version is one kiln implements; at opset 1 its version 1 is refused by name, and an
/// opset newer than the table knows is refused as a whole.
#[test]
fn opsets_select_op_versions() {
    let x = HostTensor::from_f32(&[3], &[-1.0, 0.5, 2.0]);
    let import = |opset: i64| {
        let model = one_node_model("Relu", vec![], &x, &[], &[3], opset);
        kiln_import::onnx::import_bytes(&model.encode_to_vec(), None)
    };
    for opset in [6, 7, 13, 22, 28] {
        let program = import(opset).unwrap_or_else(|e| panic!("opset {opset}: {e}"));
        let y = load(&compile(program))
            .unwrap()
            .invoke("main", std::slice::from_ref(&x));
        assert_eq!(y.unwrap()[0].to_f64(), [0.0, 0.5, 2.0], "opset {opset}");
    }
    let err = import(1).unwrap_err().to_string();
    assert!(
        err.contains("version 1 of 'Relu' is not supported (kiln implements versions 6 to 14)"),
        "{err}"
    );
    let err = import(29).unwrap_err().to_string();
    assert!(
        err.contains("ONNX opset 29 is not supported (this build knows opsets 1 to 28)"),
        "{err}"
    );
}

/// A module whose `main(x: n×f32, z: n×f32) -> y: n×f32` copies `x` through a transient of
/// `n` floats, with every size symbolic in `n`, over a kernel fixed at 2 elements.
fn symbolic_copy_module() -> Vec<u8> {
    let sym = |s: &str| kiln_types::sym::SymExpr::parse(s).unwrap();
    let copy = |from: u32, to: u32| Kernel {
        name: format!("copy{from}"),
        op: KernelOp::Generic {
            shape: vec![2],
            tile: vec![2],
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs: vec![View::contiguous(from, 0, ElementType::F32, &[2])],
            outputs: vec![View::contiguous(to, 0, ElementType::F32, &[2])],
            body: Body {
                insts: vec![Inst::Input(0)],
                results: vec![0],
            },
        },
    };
    let binding = |space| BindingRef {
        space,
        offset: sym("0"),
        length: sym("4*n"),
    };
    let dispatch = |kernel, bindings| HostInst::Dispatch {
        executable: 0,
        kernel,
        workgroups: Some([sym("(n+1)/2"), sym("1"), sym("1")]),
        bindings,
        params: vec![],
    };
    let program = HostProgram {
        transient_size: sym("4*n"),
        insts: vec![
            dispatch(
                0,
                vec![
                    binding(BufferSpace::Input(0)),
                    binding(BufferSpace::Transient),
                ],
            ),
            HostInst::Barrier,
            dispatch(
                0,
                vec![
                    binding(BufferSpace::Transient),
                    binding(BufferSpace::Output(0)),
                ],
            ),
        ],
    };
    let sig = |name: &str| TensorSig {
        name: name.into(),
        element_type: ElementType::F32,
        dims: vec![sym("n")],
        any_rank: false,
    };
    Module {
        compiler_version: "test".into(),
        name: "symbolic".into(),
        functions: vec![FunctionDef {
            name: "main".into(),
            inputs: vec![sig("x"), sig("z")],
            outputs: vec![sig("y")],
            programs: vec![program],
            checks: vec![],
            control: None,
            internal: false,
        }],
        executables: vec![ExecutableDef {
            target: "vmvx".into(),
            format: kiln_vmvx::FORMAT.into(),
            data: Executable {
                kernels: vec![copy(0, 1)],
            }
            .encode(),
        }],
        constants: vec![],
    }
    .write(&[])
}

#[test]
fn symbolic_sizes_are_bound_and_checked_per_call() {
    let m = load(&symbolic_copy_module()).unwrap();
    assert_eq!(m.module().functions[0].inputs[0].type_string(), "?xf32");
    let x = HostTensor::from_f32(&[2], &[5.0, 6.0]);
    let y = m.invoke("main", &[x.clone(), x.clone()]).unwrap();
    assert_eq!(
        (y[0].shape.clone(), y[0].to_f32()),
        (vec![2], vec![5.0, 6.0])
    );
    // A smaller call binds byte ranges the fixed-size kernel would overrun: refused before
    // anything runs, on every call.
    let one = HostTensor::from_f32(&[1], &[1.0]);
    for _ in 0..2 {
        let err = m.invoke("main", &[one.clone(), one.clone()]).unwrap_err();
        assert!(err.to_string().contains("outside binding"), "{err}");
    }
    let y = m.invoke("main", &[x.clone(), x.clone()]).unwrap();
    assert_eq!(y[0].to_f32(), vec![5.0, 6.0]);
    // Inputs that disagree on `n`, or have the wrong rank, are one-line errors naming both.
    let three = HostTensor::from_f32(&[3], &[1.0, 2.0, 3.0]);
    let err = m.invoke("main", &[x.clone(), three]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "input 1 ('z') of 'main': dim 0 is 3, but input 0 ('x') dim 0 makes 'n' 2"
    );
    let flat = HostTensor::from_f32(&[1, 2], &[1.0, 2.0]);
    let err = m.invoke("main", &[flat, x]).unwrap_err();
    assert!(
        err.to_string().contains(
            "input 0 ('x') of 'main' expects ?xf32 but got 1x2xf32 (rank 2 instead of 1)"
        ),
        "{err}"
    );
}
