//! The ONNX importer on small hand-built graphs: symbolic dims (how input dims are named, how
//! sizes flow through shape inference and shape subgraphs as expressions, and what is
//! refused) and control flow that needs run-time support.

use kiln_import::onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};
use kiln_import::{ImportError, ImportOptions, Imported};
use kiln_types::HostTensor;
use prost::Message;

/// An f32 input whose dims are sizes (`"3"`), named dims (`"batch"`) or unnamed (`"?"`).
fn input(name: &str, dims: &[&str]) -> ValueInfoProto {
    typed_input(name, 1, dims)
}

/// An input of ONNX element type `elem` (1 f32, 7 i64, 9 bool).
fn typed_input(name: &str, elem: i32, dims: &[&str]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match (d.parse::<i64>(), *d) {
            (Ok(v), _) => Dimension {
                dim_value: Some(v),
                dim_param: None,
            },
            (_, "?") => Dimension {
                dim_value: None,
                dim_param: None,
            },
            (_, p) => Dimension {
                dim_value: None,
                dim_param: Some(p.into()),
            },
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(elem),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: Some(output.into()),
        op_type: Some(op.into()),
        attribute: attrs,
        ..Default::default()
    }
}

fn ints(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: Some(7),
        name: Some(name.into()),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(v),
        r#type: Some(2),
        ..Default::default()
    }
}

fn graph_attr(name: &str, nodes: Vec<NodeProto>, outputs: &[&str]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(5),
        g: Some(GraphProto {
            node: nodes,
            name: Some(name.into()),
            output: outputs.iter().map(|o| output(o)).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn output(name: &str) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: None,
    }
}

/// Imports a graph at opset 17 whose outputs are `outputs` (declared with no shape).
fn import(
    inputs: Vec<ValueInfoProto>,
    consts: Vec<TensorProto>,
    nodes: Vec<NodeProto>,
    outputs: &[&str],
    keep_symbols: bool,
) -> Result<Imported, ImportError> {
    let options = ImportOptions {
        keep_symbols,
        ..Default::default()
    };
    import_with(inputs, consts, nodes, outputs, &options)
}

fn import_with(
    inputs: Vec<ValueInfoProto>,
    consts: Vec<TensorProto>,
    nodes: Vec<NodeProto>,
    outputs: &[&str],
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let model = ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(17),
        }],
        graph: Some(GraphProto {
            node: nodes,
            name: Some("g".into()),
            initializer: consts,
            input: inputs,
            output: outputs.iter().map(|o| output(o)).collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    kiln_import::onnx::import_bytes_with(&model.encode_to_vec(), None, options)
}

fn result_types(imported: &Imported) -> Vec<String> {
    let f = imported.program.function("main").unwrap();
    f.results
        .iter()
        .map(|r| f.ty(r.value).to_string())
        .collect()
}

#[test]
fn named_dims_are_shared_and_unnamed_dims_are_fresh() {
    let imported = import(
        vec![
            input("a", &["batch", "?", "4"]),
            input("b", &["batch", "?", "4"]),
        ],
        vec![],
        vec![
            node("Identity", &["a"], "ya", vec![]),
            node("Identity", &["b"], "yb", vec![]),
        ],
        &["ya", "yb"],
        true,
    )
    .unwrap();
    assert_eq!(
        result_types(&imported),
        ["tensor<{batch}x{a_1}x4xf32>", "tensor<{batch}x{b_1}x4xf32>"]
    );
    // A shared name means one size. Adding the two inputs needs their unnamed dims to agree:
    // b's is taken to be a's, which a `check_shape` records for the runtime to check.
    let imported = import(
        vec![input("a", &["batch", "?"]), input("b", &["batch", "?"])],
        vec![],
        vec![node("Add", &["a", "b"], "y", vec![])],
        &["y"],
        true,
    )
    .unwrap();
    assert_eq!(result_types(&imported), ["tensor<{batch}x{a_1}xf32>"]);
    let ops = &imported.program.functions[0].ops;
    assert!(
        matches!(&ops[0].kind, kiln_ir::OpKind::CheckShape { shape } if shape[1].to_string() == "{a_1}"),
        "{:?}",
        ops[0].kind
    );
    let imported = import(
        vec![input("a", &["batch", "n"]), input("b", &["batch", "n"])],
        vec![],
        vec![node("Add", &["a", "b"], "y", vec![])],
        &["y"],
        true,
    )
    .unwrap();
    assert_eq!(result_types(&imported), ["tensor<{batch}x{n}xf32>"]);
    // Kept open, a dim declared 0 (an exporter's "unknown") is a fresh symbol too; bound, it is
    // the size 0 the file says.
    let graph = |keep| {
        import(
            vec![input("a", &["0", "4"])],
            vec![],
            vec![node("Identity", &["a"], "y", vec![])],
            &["y"],
            keep,
        )
        .unwrap()
    };
    assert_eq!(result_types(&graph(true)), ["tensor<{a_0}x4xf32>"]);
    assert_eq!(result_types(&graph(false)), ["tensor<0x4xf32>"]);
}

#[test]
fn shape_subgraphs_fold_to_symbolic_sizes() {
    // Reshape(x, Concat(Shape(x)[0:1], [-1])) flattens all but the first dim; Size counts all.
    let imported = import(
        vec![input("x", &["?", "4", "?"])],
        vec![
            ints("zero", &[0]),
            ints("one", &[1]),
            ints("minus_one", &[-1]),
        ],
        vec![
            node("Shape", &["x"], "s", vec![]),
            node("Slice", &["s", "zero", "one"], "n", vec![]),
            node(
                "Concat",
                &["n", "minus_one"],
                "target",
                vec![int_attr("axis", 0)],
            ),
            node("Reshape", &["x", "target"], "flat", vec![]),
            node("Size", &["x"], "count", vec![]),
            node("Unsqueeze", &["count", "zero"], "count_1d", vec![]),
            node("Reshape", &["x", "count_1d"], "all", vec![]),
        ],
        &["flat", "all"],
        true,
    )
    .unwrap();
    assert_eq!(
        result_types(&imported),
        ["tensor<{x_0}x{4*x_2}xf32>", "tensor<{4*x_0*x_2}xf32>"]
    );
    // The symbolic program runs at any size.
    let x = HostTensor::from_f32(&[2, 4, 3], &(0..24).map(|v| v as f32).collect::<Vec<_>>());
    let out = kiln_ir::interp::run(&imported.program, "main", &[x]).unwrap();
    assert_eq!(
        (out[0].shape.clone(), out[1].shape.clone()),
        (vec![2, 12], vec![24])
    );
}

#[test]
fn symbolic_dims_slice_to_their_end_and_window_ops_keep_expressions() {
    let slice = node("Slice", &["x", "start", "end", "axis"], "y", vec![]);
    let imported = import(
        vec![input("x", &["?", "8"])],
        vec![
            ints("start", &[1]),
            ints("end", &[i64::MAX]),
            ints("axis", &[0]),
        ],
        vec![slice.clone()],
        &["y"],
        true,
    )
    .unwrap();
    assert_eq!(result_types(&imported), ["tensor<{x_0-1}x8xf32>"]);
    let err = import(
        vec![input("x", &["?", "8"])],
        vec![
            ints("start", &[-2]),
            ints("end", &[i64::MAX]),
            ints("axis", &[0]),
        ],
        vec![slice],
        &["y"],
        true,
    )
    .unwrap_err();
    assert!(err.to_string().contains("symbolic dim {x_0}"), "{err}");
}

#[test]
fn sizes_read_as_data_are_computed_by_the_control_program() {
    // Shape(x) cast to float and added to data: a size the program computes at run time.
    let to_float = AttributeProto {
        name: Some("to".into()),
        i: Some(1),
        r#type: Some(2),
        ..Default::default()
    };
    let nodes = || {
        vec![
            node("Shape", &["x"], "s", vec![]),
            node("Cast", &["s"], "sf", vec![to_float.clone()]),
            node("Add", &["sf", "sf"], "y", vec![]),
        ]
    };
    let imported = import(vec![input("x", &["n"])], vec![], nodes(), &["y"], true).unwrap();
    let text = control_text(&imported);
    assert!(
        text.contains("= dim %r0, 0") && text.contains("pack.i64"),
        "{text}"
    );
    let x = kiln_types::HostTensor::from_f64(kiln_types::ElementType::F32, &[5], &[0.0; 5]);
    let y = kiln_ir::interp::run(&imported.program, "main", &[x]).unwrap();
    assert_eq!(y[0].to_f64(), [10.0]);
    // Without keep_symbols the dim is bound to 1 (with a note) and the size folds.
    let imported = import(vec![input("x", &["n"])], vec![], nodes(), &["y"], false).unwrap();
    assert_eq!(result_types(&imported), ["tensor<1xf32>"]);
    assert_eq!(
        imported.notes,
        ["input 'x' has symbolic dim 'n'; compiling for n=1 (choose with --kiln-bind-dim=n=SIZE)"]
    );
}

/// If's branch attributes: `x` (2×3) itself, or `x` flattened (needs `minus_one` = [-1]).
fn branches_of_two_ranks() -> Vec<AttributeProto> {
    let then_branch = graph_attr(
        "then_branch",
        vec![node("Identity", &["x"], "t", vec![])],
        &["t"],
    );
    let flat = node("Reshape", &["x", "minus_one"], "e", vec![]);
    vec![then_branch, graph_attr("else_branch", vec![flat], &["e"])]
}

/// The control program of `main`, printed.
fn control_text(imported: &kiln_import::Imported) -> String {
    let main = imported.program.function("main").unwrap();
    main.control
        .as_ref()
        .expect("a control program")
        .program
        .to_string()
}

#[test]
fn run_time_control_flow_becomes_a_control_program() {
    // An If on a run-time condition whose branches differ in rank: each branch is a segment,
    // and the result's rank is known only per call.
    let imported = import(
        vec![typed_input("c", 9, &[]), input("x", &["2", "3"])],
        vec![ints("minus_one", &[-1])],
        vec![node("If", &["c"], "y", branches_of_two_ranks())],
        &["y"],
        true,
    )
    .unwrap();
    let text = control_text(&imported);
    assert!(
        text.contains("= read %r") && text.contains("if $s"),
        "{text}"
    );
    let main = imported.program.function("main").unwrap();
    assert_eq!(main.control.as_ref().unwrap().any_rank, [true]);
    assert!(imported.program.functions.iter().any(|f| f.internal));
    // Reading such a value is refused, naming both nodes.
    let err = import(
        vec![typed_input("c", 9, &[]), input("x", &["2", "3"])],
        vec![ints("minus_one", &[-1])],
        vec![
            node("If", &["c"], "y", branches_of_two_ranks()),
            node("Relu", &["y"], "z", vec![]),
        ],
        &["z"],
        true,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("node 'z' (Relu") && err.to_string().contains("from If node 'y'"),
        "{err}"
    );
    // A Loop whose trip count is an input: a loop of the control program around the body.
    let mut body = graph_attr(
        "body",
        vec![
            node("Identity", &["cond"], "cond_out", vec![]),
            node("Neg", &["v"], "v_out", vec![]),
        ],
        &["cond_out", "v_out"],
    );
    if let Some(g) = body.g.as_mut() {
        g.input = vec![
            typed_input("i", 7, &[]),
            typed_input("cond", 9, &[]),
            input("v", &["2"]),
        ];
    }
    let imported = import(
        vec![typed_input("n", 7, &[]), input("x", &["2"])],
        vec![],
        vec![node("Loop", &["n", "", "x"], "y", vec![body])],
        &["y"],
        true,
    )
    .unwrap();
    let text = control_text(&imported);
    assert!(
        text.contains("loop $s") && text.contains("max $s"),
        "{text}"
    );
    assert_eq!(result_types(&imported), ["tensor<2xf32>"]);
}

#[test]
fn a_bound_input_folds_the_branch_that_depends_on_it() {
    // Branches of different ranks chosen by `sr == 16000`, as voice-activity detectors do.
    let graph = |options: &ImportOptions| {
        import_with(
            vec![typed_input("sr", 7, &["1"]), input("x", &["2", "3"])],
            vec![ints("minus_one", &[-1]), ints("rate", &[16000])],
            vec![
                node("Equal", &["sr", "rate"], "is_16k", vec![]),
                node("If", &["is_16k"], "y", branches_of_two_ranks()),
            ],
            &["y"],
            options,
        )
    };
    let bind = |value: f64| ImportOptions {
        inputs: vec![("sr".into(), value)],
        ..Default::default()
    };
    let imported = graph(&bind(16000.0)).unwrap();
    assert_eq!(result_types(&imported), ["tensor<2x3xf32>"]);
    let f = &imported.program.functions[0];
    assert_eq!(f.params.len(), 1, "sr is no longer an input");
    assert_eq!(
        imported.notes,
        ["input 'sr' is bound to 16000; the compiled function does not take it"]
    );
    assert_eq!(
        result_types(&graph(&bind(8000.0)).unwrap()),
        ["tensor<6xf32>"]
    );
    // Left open, the condition is read at run time and the result's rank follows it.
    let open = graph(&ImportOptions::default()).unwrap();
    let main = open.program.function("main").unwrap();
    assert_eq!(main.control.as_ref().unwrap().any_rank, [true]);
    let err = graph(&bind(0.5)).unwrap_err();
    assert!(
        err.to_string()
            .contains("input 'sr' (tensor<1xi64>) cannot hold the value 0.5"),
        "{err}"
    );
    let err = graph(&ImportOptions {
        inputs: vec![("rate".into(), 1.0)],
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no input 'rate' (its inputs: sr, x)"),
        "{err}"
    );
    let err = graph(&ImportOptions {
        inputs: vec![("x".into(), 1.0)],
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("more than one element"), "{err}");
}

#[test]
fn einsum_takes_diagonals_and_refuses_equations_that_do_not_fit() {
    let equation = |eq: &str| AttributeProto {
        name: Some("equation".into()),
        s: Some(eq.as_bytes().to_vec()),
        r#type: Some(3),
        ..Default::default()
    };
    let einsum = |eq: &str| {
        import(
            vec![input("x", &["3", "3"])],
            vec![],
            vec![node("Einsum", &["x"], "y", vec![equation(eq)])],
            &["y"],
            false,
        )
    };
    assert_eq!(
        result_types(&einsum("ij->ji").unwrap()),
        ["tensor<3x3xf32>"]
    );
    assert_eq!(result_types(&einsum("ii->i").unwrap()), ["tensor<3xf32>"]);
    assert_eq!(result_types(&einsum("ii").unwrap()), ["tensor<f32>"]);
    let err = einsum("ijk->k").unwrap_err();
    assert!(
        err.to_string()
            .contains("does not fit input tensor<3x3xf32>"),
        "{err}"
    );
}

#[test]
fn einsum_contracted_letters_must_agree_in_size() {
    let equation = AttributeProto {
        name: Some("equation".into()),
        s: Some(b"ab,ab->".to_vec()),
        r#type: Some(3),
        ..Default::default()
    };
    let err = import(
        vec![input("x", &["1", "2"]), input("y", &["2", "1"])],
        vec![],
        vec![node("Einsum", &["x", "y"], "z", vec![equation])],
        &["z"],
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("in one input and"), "{err}");
}

#[test]
fn axes_given_at_run_time_pick_one_build_per_value() {
    // ReduceSum over axes given as an input: one build per axis, the control program picks
    // the one matching the value it reads (negative axes normalised), or fails naming them.
    let imported = import(
        vec![input("x", &["2", "3"]), typed_input("axes", 7, &["1"])],
        vec![],
        vec![node("ReduceSum", &["x", "axes"], "y", vec![])],
        &["y"],
        true,
    )
    .unwrap();
    let text = control_text(&imported);
    assert!(
        text.contains("fail") && text.matches("if $s").count() == 2,
        "{text}"
    );
    let x = kiln_types::HostTensor::from_f64(
        kiln_types::ElementType::F32,
        &[2, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    );
    let run = |axis: i64| {
        let axes = kiln_types::HostTensor::from_i64(&[1], &[axis]);
        kiln_ir::interp::run(&imported.program, "main", &[x.clone(), axes])
    };
    let rows = &run(1).unwrap()[0];
    assert_eq!(
        (rows.shape.clone(), rows.to_f64()),
        (vec![2, 1], vec![6.0, 15.0])
    );
    let cols = &run(-2).unwrap()[0];
    assert_eq!(
        (cols.shape.clone(), cols.to_f64()),
        (vec![1, 3], vec![5.0, 7.0, 9.0])
    );
    let err = run(2).unwrap_err().to_string();
    assert!(
        err.contains("node 'y' (ReduceSum): input 1 must be one of [0], [1]"),
        "{err}"
    );
}

#[test]
fn max_and_min_over_an_empty_set_give_the_element_types_extremes() {
    // ReduceMax/ReduceMin (opset 17: axes as an attribute) over a static empty axis.
    let axes = AttributeProto {
        name: Some("axes".into()),
        ints: vec![1],
        r#type: Some(7),
        ..Default::default()
    };
    for (elem, op, want) in [
        (9, "ReduceMax", 0.0),
        (9, "ReduceMin", 1.0),
        (6, "ReduceMax", i32::MIN as f64),
        (1, "ReduceMin", f64::INFINITY),
    ] {
        let imported = import(
            vec![typed_input("x", elem, &["2", "0", "3"])],
            vec![],
            vec![node(op, &["x"], "y", vec![axes.clone()])],
            &["y"],
            false,
        )
        .unwrap();
        let et = imported.program.functions[0]
            .ty(imported.program.functions[0].params[0].value)
            .element_type;
        let x = kiln_types::HostTensor::from_f64(et, &[2, 0, 3], &[]);
        let y = &kiln_ir::interp::run(&imported.program, "main", &[x]).unwrap()[0];
        assert_eq!(y.shape, [2, 1, 3], "{op} {et}");
        assert!(
            y.to_f64().iter().all(|&v| v == want),
            "{op} {et}: {:?}",
            y.to_f64()
        );
    }
}

fn floats(name: &str, dims: &[i64], seed: u32) -> TensorProto {
    let n = dims.iter().product::<i64>() as u32;
    // A fixed pseudo-random spread in [-0.5, 0.5).
    let values = (0..n)
        .map(|i| {
            ((i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 1000) as f32 / 1000.0 - 0.5
        })
        .collect();
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(1),
        name: Some(name.into()),
        float_data: values,
        ..Default::default()
    }
}

fn string_attr(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        s: Some(v.as_bytes().to_vec()),
        r#type: Some(3),
        ..Default::default()
    }
}

/// A recurrent layer imported as one `recurrent` op (its reference interpreter) computes what
/// the same layer unrolled into steps computes: bidirectional GRUs with and without
/// `linear_before_reset`, an LSTM with peepholes, `input_forget` and a clip, a reverse RNN.
#[test]
fn recurrent_kernels_compute_what_unrolled_steps_compute() {
    let (seq, batch, inp, hidden) = (5i64, 2i64, 3i64, 4i64);
    let cases: Vec<(&str, i64, &str, Vec<AttributeProto>)> = vec![
        ("GRU", 3, "bidirectional", vec![]),
        (
            "GRU",
            3,
            "forward",
            vec![int_attr("linear_before_reset", 1)],
        ),
        (
            "LSTM",
            4,
            "forward",
            vec![
                int_attr("input_forget", 1),
                AttributeProto {
                    name: Some("clip".into()),
                    f: Some(0.7),
                    r#type: Some(1),
                    ..Default::default()
                },
            ],
        ),
        ("LSTM", 4, "bidirectional", vec![]),
        ("RNN", 1, "reverse", vec![]),
    ];
    for (op, gates, direction, mut attrs) in cases {
        let dirs = if direction == "bidirectional" { 2 } else { 1 };
        attrs.push(int_attr("hidden_size", hidden));
        attrs.push(string_attr("direction", direction));
        let mut consts = vec![
            floats("W", &[dirs, gates * hidden, inp], 1),
            floats("R", &[dirs, gates * hidden, hidden], 2),
            floats("B", &[dirs, 2 * gates * hidden], 3),
            floats("h0", &[dirs, batch, hidden], 4),
        ];
        let mut inputs = vec!["x", "W", "R", "B", "", "h0"];
        let mut outputs = vec!["y", "yh"];
        if op == "LSTM" {
            consts.push(floats("c0", &[dirs, batch, hidden], 5));
            consts.push(floats("P", &[dirs, 3 * hidden], 6));
            inputs.extend(["c0", "P"]);
            outputs.push("yc");
        }
        let mut n = node(op, &inputs, "y", attrs);
        n.output = outputs.iter().map(|s| s.to_string()).collect();
        let x_dims = [seq.to_string(), batch.to_string(), inp.to_string()];
        let x_dims: Vec<&str> = x_dims.iter().map(String::as_str).collect();
        let run = |recurrent_kernels: bool| {
            let options = ImportOptions {
                recurrent_kernels,
                ..Default::default()
            };
            let imported = import_with(
                vec![input("x", &x_dims)],
                consts.clone(),
                vec![n.clone()],
                &outputs,
                &options,
            )
            .unwrap();
            let text = kiln_ir::text::print_program(&imported.program, true);
            assert_eq!(
                text.contains("recurrent"),
                recurrent_kernels,
                "{op}: {text}"
            );
            let xs: Vec<f32> = (0..seq * batch * inp)
                .map(|i| (i % 7) as f32 * 0.3 - 0.9)
                .collect();
            let x = HostTensor::from_f32(&[seq as usize, batch as usize, inp as usize], &xs);
            kiln_ir::interp::run(&imported.program, "main", &[x]).unwrap()
        };
        let (fused, steps) = (run(true), run(false));
        assert_eq!(fused.len(), outputs.len());
        for (a, b) in fused.iter().zip(&steps) {
            assert_eq!(a.shape, b.shape, "{op} {direction}");
            let err = a
                .to_f64()
                .iter()
                .zip(&b.to_f64())
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-5, "{op} {direction}: max error {err}");
        }
    }
}
