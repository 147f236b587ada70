//! The text format reads back what it prints, and the verifier and interpreter agree with
//! hand-computed results.

use kiln_ir::{interp, text, IrError};
use kiln_types::HostTensor;

const SAMPLE: &str = r#"
func @main(%0 "x": tensor<2x3xf32>, %1 "idx": tensor<2xi64>) -> (%9 "y", %10 "z") {
  %2 = constant @c0 : tensor<3x2xf32> loc("w")
  %3 = matmul %0, %2 : tensor<2x2xf32> loc("mm")
  %4 = relu %3 : tensor<2x2xf32> loc("relu")
  %5 = softmax {axis = 1} %4 : tensor<2x2xf32> loc("sm")
  %6 = transpose {perm = [1, 0]} %0 : tensor<3x2xf32> loc("t")
  %7 = gather {axis = 0} %6, %1 : tensor<2x2xf32> loc("g")
  %8 = add %5, %7 : tensor<2x2xf32> loc("add")
  %9 = reduce {kind = sum, axes = [1], keep_dims = 0} %8 : tensor<2xf32> loc("sum")
  %10 = layer_norm {axis = 1, epsilon = 1e-5} %0 : tensor<2x3xf32> loc("ln")
}
const @c0 : tensor<3x2xf32> = dense<"0x0000803F000000000000000000000000000000000000803F">
"#;

#[test]
fn print_parse_print_is_a_fixed_point() {
    let p = text::parse_program(SAMPLE).expect("sample parses");
    let printed = text::print_program(&p, false);
    let again = text::parse_program(&printed).expect("printed text parses");
    assert_eq!(printed, text::print_program(&again, false));
    assert_eq!(p, again);
}

#[test]
fn interpreter_computes_the_sample() {
    let p = text::parse_program(SAMPLE).unwrap();
    let x = HostTensor::from_f32(&[2, 3], &[1.0, -2.0, 3.0, 4.0, 5.0, 6.0]);
    let idx = HostTensor::from_i64(&[2], &[2, -3]);
    let out = interp::run(&p, "main", &[x, idx]).unwrap();
    // x @ w = [[1, 0], [4, 0]] (w picks columns 0 and 2... of x's first and third); relu; softmax.
    let sm0 = [
        1.0f64.exp() / (1.0f64.exp() + 1.0),
        1.0 / (1.0f64.exp() + 1.0),
    ];
    // transpose(x)[2] = [3, 6], transpose(x)[-3 -> 0] = [1, 4]
    let expect0 = sm0[0] + 3.0 + sm0[1] + 6.0;
    let y = out[0].to_f64();
    assert!((y[0] - expect0).abs() < 1e-5, "{y:?}");
    assert!((y[1] - (1.0 + 1.0 + 4.0)).abs() < 1e-5, "{y:?}");
    let z = out[1].to_f64();
    let mean = (1.0 - 2.0 + 3.0) / 3.0;
    let var = ((1.0f64 - mean).powi(2) + (-2.0f64 - mean).powi(2) + (3.0f64 - mean).powi(2)) / 3.0;
    assert!((z[0] - (1.0 - mean) / (var + 1e-5).sqrt()).abs() < 1e-5);
}

#[test]
fn bad_text_names_the_line_and_reason() {
    let err =
        text::parse_program("func @f() -> () {\n  %1 = frobnicate : tensor<f32>\n}").unwrap_err();
    assert_eq!(
        err,
        IrError::Parse {
            line: 2,
            message: "unknown op 'frobnicate'".into()
        }
    );
    let err = text::parse_program("func @f(%0 \"x\": tensor<2xf32>) -> (%1 \"y\") {\n  %1 = add %0, %0 : tensor<3xf32> loc(\"a\")\n}").unwrap_err();
    assert!(
        err.to_string()
            .contains("declared tensor<3xf32> but computes tensor<2xf32>"),
        "{err}"
    );
    let err = text::parse_program(
        "func @f(%0 \"x\": tensor<2xf32>) -> (%1 \"y\") {\n  %1 = add %0, %7 : tensor<2xf32>\n}",
    )
    .unwrap_err();
    assert!(err.to_string().contains("%7 is not defined"), "{err}");
}

#[test]
fn symbolic_dims_print_and_bind() {
    let src = "func @f(%0 \"x\": tensor<{batch}x2xf32>) -> (%1 \"y\") {\n  %1 = exp %0 : tensor<{batch}x2xf32> loc(\"e\")\n}\n";
    let p = text::parse_program(src).unwrap();
    assert_eq!(text::print_program(&p, false), src);
    let out = interp::run(&p, "f", &[HostTensor::from_f32(&[3, 2], &[0.0; 6])]).unwrap();
    assert_eq!(out[0].shape, vec![3, 2]);
    let err = interp::run(&p, "f", &[HostTensor::from_f32(&[3, 3], &[0.0; 9])]).unwrap_err();
    assert!(
        err.to_string()
            .contains("expects tensor<{batch}x2xf32> but got 3x3xf32"),
        "{err}"
    );
}
