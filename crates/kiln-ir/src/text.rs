//! Text format of the tensor program: a printer and a parser that read each other's output.
//!
//! ```text
//! func @main(%0 "x": tensor<8x784xf32>) -> (%3 "probs") {
//!   %1 = constant @c0 : tensor<784x10xf32> loc("W")
//!   %2 = matmul %0, %1 : tensor<8x10xf32> loc("gemm")
//!   %3 = softmax {axis = 1} %2 : tensor<8x10xf32> loc("softmax")
//! }
//! const @c0 : tensor<784x10xf32> = dense<"0x0000803F...">
//! ```
//!
//! Values are renumbered in definition order when printing, so printing a parsed program gives
//! the same text back. Constants print as little-endian hex, like MLIR's `dense<"0x…">`.

use crate::function::{Function, Op, Port, Program, ValueId};
use crate::ops::{Attr, ConstId, OpKind};
use crate::sym::SymExpr;
use crate::types::{Dim, TensorType};
use crate::IrError;
use kiln_types::{ElementType, HostTensor};
use std::collections::HashMap;
use std::fmt::Write;

/// Prints a whole program. Constants are printed in full unless `elide_constants` is set, in
/// which case only their types appear (such text does not parse back).
pub fn print_program(program: &Program, elide_constants: bool) -> String {
    let mut out = String::new();
    for f in &program.functions {
        print_function(f, &mut out);
    }
    for (i, c) in program.constants.iter().enumerate() {
        let ty = TensorType::new(c.element_type, &c.shape);
        if elide_constants {
            let _ = writeln!(out, "const @c{i} : {ty} = dense_resource<elided>");
        } else {
            let mut hex = String::with_capacity(c.data.len() * 2);
            for b in &c.data {
                let _ = write!(hex, "{b:02X}");
            }
            let _ = writeln!(out, "const @c{i} : {ty} = dense<\"0x{hex}\">");
        }
    }
    out
}

fn print_function(f: &Function, out: &mut String) {
    let mut names: HashMap<ValueId, usize> = HashMap::new();
    let name = |v: ValueId, names: &mut HashMap<ValueId, usize>| -> String {
        let n = names.len();
        format!("%{}", names.entry(v).or_insert(n))
    };
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| {
            format!(
                "{} {:?}: {}",
                name(p.value, &mut names),
                p.name,
                f.ty(p.value)
            )
        })
        .collect();
    // Pre-number op results in order so the result list in the header can refer to them.
    for op in &f.ops {
        for r in &op.results {
            name(*r, &mut names);
        }
    }
    let results: Vec<String> = f
        .results
        .iter()
        .map(|p| format!("{} {:?}", name(p.value, &mut names), p.name))
        .collect();
    let _ = writeln!(
        out,
        "func {}@{}({}) -> ({}) {}{{",
        if f.internal { "private " } else { "" },
        f.name,
        params.join(", "),
        results.join(", "),
        if f.control.is_some() { "control " } else { "" },
    );
    if let Some(c) = &f.control {
        let types: Vec<String> = f
            .results
            .iter()
            .zip(&c.any_rank)
            .map(|(p, &any)| match any {
                true => format!("tensor<*x{}>", f.ty(p.value).element_type.name()),
                false => f.ty(p.value).to_string(),
            })
            .collect();
        let _ = write!(out, "{}", c.program);
        let _ = writeln!(out, "  // result types: {}", types.join(", "));
    }
    for op in &f.ops {
        let res: Vec<String> = op.results.iter().map(|r| name(*r, &mut names)).collect();
        let _ = write!(out, "  {} = {}", res.join(", "), op.kind.name());
        if let OpKind::Constant(id) = op.kind {
            let _ = write!(out, " {id}");
        }
        let attrs = op.kind.attrs();
        if !attrs.is_empty() {
            let a: Vec<String> = attrs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = write!(out, " {{{}}}", a.join(", "));
        }
        let operands: Vec<String> = op.operands.iter().map(|v| name(*v, &mut names)).collect();
        if !operands.is_empty() {
            let _ = write!(out, " {}", operands.join(", "));
        }
        let types: Vec<String> = op.results.iter().map(|r| f.ty(*r).to_string()).collect();
        let _ = writeln!(out, " : {} loc({:?})", types.join(", "), op.loc);
    }
    out.push_str("}\n");
}

/// Parses a program printed by [`print_program`] and verifies it.
pub fn parse_program(text: &str) -> Result<Program, IrError> {
    let mut p = Parser { src: text, pos: 0 };
    let mut program = Program::default();
    let mut pending: Vec<(Function, Vec<(String, ValueId)>)> = vec![];
    let mut constants: HashMap<u32, HostTensor> = HashMap::new();
    loop {
        p.skip_ws();
        if p.at_end() {
            break;
        }
        if p.eat_word("func") {
            let internal = p.eat_word("private");
            let (mut f, results) = p.function()?;
            f.internal = internal;
            pending.push((f, results));
        } else if p.eat_word("const") {
            let (id, t) = p.constant()?;
            constants.insert(id, t);
        } else {
            return Err(p.error("expected 'func' or 'const'"));
        }
    }
    for i in 0..constants.len() as u32 {
        let c = constants
            .remove(&i)
            .ok_or_else(|| p.error(&format!("constant @c{i} is missing")))?;
        program.constants.push(c);
    }
    if !constants.is_empty() {
        return Err(p.error("constant ids must be numbered from @c0 without gaps"));
    }
    for (mut f, results) in pending {
        // Result types were not known when the header was read; the body defines them now.
        for (name, v) in results {
            f.results.push(Port { value: v, name });
        }
        program.functions.push(f);
    }
    for f in &mut program.functions {
        for op in &mut f.ops {
            if let OpKind::Constant(id) = op.kind {
                if let Some(c) = program.constants.get(id.0 as usize) {
                    f.values[op.results[0].index()].ty = TensorType::new(c.element_type, &c.shape);
                }
            }
        }
    }
    crate::verify::verify(&program)?;
    Ok(program)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }
    fn error(&self, message: &str) -> IrError {
        self.error_at(self.pos, message)
    }
    fn error_at(&self, pos: usize, message: &str) -> IrError {
        let line = self.src[..pos.min(self.src.len())].matches('\n').count() + 1;
        IrError::Parse {
            line,
            message: message.to_string(),
        }
    }
    fn skip_ws(&mut self) {
        loop {
            let r = self.rest();
            let t = r.trim_start();
            self.pos += r.len() - t.len();
            if self.rest().starts_with("//") {
                self.pos += self.rest().find('\n').unwrap_or(self.rest().len());
            } else {
                break;
            }
        }
    }
    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, s: &str) -> Result<(), IrError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{s}'")))
        }
    }
    fn word(&mut self) -> Result<&'a str, IrError> {
        self.skip_ws();
        let r = self.rest();
        let n = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(r.len());
        if n == 0 {
            return Err(self.error("expected a word"));
        }
        self.pos += n;
        Ok(&r[..n])
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let save = self.pos;
        match self.word() {
            Ok(x) if x == w => true,
            _ => {
                self.pos = save;
                false
            }
        }
    }
    fn string(&mut self) -> Result<String, IrError> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'u')) => {
                        // Rust's `{:?}` escapes as \u{…}.
                        let mut code = String::new();
                        for (_, c) in chars.by_ref() {
                            if c == '}' {
                                break;
                            }
                            if c != '{' {
                                code.push(c);
                            }
                        }
                        let ch = u32::from_str_radix(&code, 16).ok().and_then(char::from_u32);
                        out.push(ch.ok_or_else(|| self.error("bad \\u escape"))?);
                    }
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }
    fn number(&mut self) -> Result<&'a str, IrError> {
        self.skip_ws();
        let r = self.rest();
        let n = r
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphanumeric()
                    || c == '.'
                    || ((c == '-' || c == '+') && (i == 0 || r[..i].ends_with(['e', 'E']))))
            })
            .map(|(i, _)| i)
            .unwrap_or(r.len());
        if n == 0 {
            return Err(self.error("expected a number"));
        }
        self.pos += n;
        Ok(&r[..n])
    }
    fn value(&mut self, names: &HashMap<String, ValueId>) -> Result<ValueId, IrError> {
        let name = self.value_name()?;
        names
            .get(&name)
            .copied()
            .ok_or_else(|| self.error(&format!("%{name} is not defined")))
    }
    fn value_name(&mut self) -> Result<String, IrError> {
        self.expect("%")?;
        Ok(self.word()?.to_string())
    }
    fn tensor_type(&mut self) -> Result<TensorType, IrError> {
        if !self.eat_word("tensor") {
            return Err(self.error("expected a tensor type"));
        }
        self.expect("<")?;
        let end = self
            .rest()
            .find('>')
            .ok_or_else(|| self.error("unterminated tensor type"))?;
        let body = &self.rest()[..end];
        self.pos += end + 1;
        parse_type_body(body)
            .ok_or_else(|| self.error(&format!("bad tensor type 'tensor<{body}>'")))
    }
    fn attr(&mut self) -> Result<Attr, IrError> {
        if self.eat("[") {
            // A list of integers, or of dims when any item is a symbolic `{size}`.
            let mut v: Vec<Dim> = vec![];
            let mut ints: Vec<i64> = vec![];
            if !self.eat("]") {
                loop {
                    if self.eat("{") {
                        let end = self
                            .rest()
                            .find('}')
                            .ok_or_else(|| self.error("unterminated '{' size"))?;
                        let text = &self.rest()[..end];
                        let dim =
                            SymExpr::parse(text)
                                .map_err(|m| self.error(&m))
                                .and_then(|e| {
                                    Dim::from_expr(e).ok_or_else(|| {
                                        self.error(&format!("negative size {{{text}}}"))
                                    })
                                })?;
                        self.pos += end + 1;
                        v.push(dim);
                    } else {
                        let n = self.number()?;
                        let i: i64 = n
                            .parse()
                            .map_err(|_| self.error(&format!("bad integer '{n}'")))?;
                        ints.push(i);
                        v.push(Dim::Static(usize::try_from(i).unwrap_or(usize::MAX)));
                    }
                    if self.eat("]") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            if v.iter().any(|d| matches!(d, Dim::Sym(_))) {
                if ints.iter().any(|&i| i < 0) {
                    return Err(self.error("a list of sizes cannot hold negative integers"));
                }
                return Ok(Attr::Dims(v));
            }
            return Ok(Attr::Ints(ints));
        }
        self.skip_ws();
        if self
            .rest()
            .starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            let n = self.number()?;
            if let Ok(i) = n.parse::<i64>() {
                return Ok(Attr::Int(i));
            }
            return n
                .parse()
                .map(Attr::Float)
                .map_err(|_| self.error(&format!("bad number '{n}'")));
        }
        Ok(Attr::Word(self.word()?.to_string()))
    }

    fn function(&mut self) -> Result<(Function, Vec<(String, ValueId)>), IrError> {
        self.expect("@")?;
        let mut f = Function::new(self.word()?);
        let mut names: HashMap<String, ValueId> = HashMap::new();
        self.expect("(")?;
        if !self.eat(")") {
            loop {
                let n = self.value_name()?;
                let port = self.string()?;
                self.expect(":")?;
                let ty = self.tensor_type()?;
                let v = f.add_param(port, ty);
                names.insert(n, v);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        self.expect("->")?;
        self.expect("(")?;
        let mut result_names = vec![];
        if !self.eat(")") {
            loop {
                let n = self.value_name()?;
                result_names.push((n, self.string()?));
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        if self.eat_word("control") {
            return Err(self.error(
                "functions with control programs are printed for reading, not parsed back",
            ));
        }
        self.expect("{")?;
        while !self.eat("}") {
            let op = self.op(&mut f, &mut names)?;
            f.ops.push(op);
        }
        let results = result_names
            .into_iter()
            .map(|(n, port)| {
                names
                    .get(&n)
                    .map(|v| (port, *v))
                    .ok_or_else(|| self.error(&format!("result %{n} is never defined")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((f, results))
    }

    fn op(
        &mut self,
        f: &mut Function,
        names: &mut HashMap<String, ValueId>,
    ) -> Result<Op, IrError> {
        self.skip_ws();
        let start = self.pos;
        let mut result_names = vec![self.value_name()?];
        while self.eat(",") {
            result_names.push(self.value_name()?);
        }
        self.expect("=")?;
        let name = self.word()?.to_string();
        let mut constant = None;
        if name == "constant" {
            self.expect("@c")?;
            let n = self.number()?;
            constant = Some(ConstId(
                n.parse().map_err(|_| self.error("bad constant id"))?,
            ));
        }
        let mut attrs = vec![];
        if self.eat("{") {
            loop {
                let k = self.word()?.to_string();
                self.expect("=")?;
                attrs.push((k, self.attr()?));
                if self.eat("}") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let mut operands = vec![];
        self.skip_ws();
        if self.rest().starts_with('%') {
            loop {
                operands.push(self.value(names)?);
                if !self.eat(",") {
                    break;
                }
            }
        }
        self.expect(":")?;
        let mut types = vec![self.tensor_type()?];
        while self.eat(",") {
            types.push(self.tensor_type()?);
        }
        let mut loc = String::new();
        if self.eat_word("loc") {
            self.expect("(")?;
            loc = self.string()?;
            self.expect(")")?;
        }
        let kind = match constant {
            Some(id) => OpKind::Constant(id),
            None => OpKind::from_parts(&name, &attrs).map_err(|m| self.error_at(start, &m))?,
        };
        if types.len() != result_names.len() {
            return Err(self.error("the number of result types does not match the results"));
        }
        let mut results = vec![];
        for (n, t) in result_names.into_iter().zip(types) {
            let v = f.new_value(t);
            if names.insert(n.clone(), v).is_some() {
                return Err(self.error(&format!("%{n} is defined twice")));
            }
            results.push(v);
        }
        Ok(Op {
            kind,
            operands,
            results,
            loc,
        })
    }

    fn constant(&mut self) -> Result<(u32, HostTensor), IrError> {
        self.expect("@c")?;
        let id: u32 = self
            .number()?
            .parse()
            .map_err(|_| self.error("bad constant id"))?;
        self.expect(":")?;
        let ty = self.tensor_type()?;
        self.expect("=")?;
        if !self.eat_word("dense") {
            return Err(self.error("expected dense<\"0x…\"> constant data"));
        }
        self.expect("<")?;
        let hex = self.string()?;
        self.expect(">")?;
        let digits = hex
            .strip_prefix("0x")
            .ok_or_else(|| self.error("constant data must start with 0x"))?;
        if !digits.is_ascii() || digits.len() % 2 != 0 {
            return Err(self.error("constant data must be an even number of hex digits"));
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| self.error("constant data is not hex"))?;
        let shape = ty
            .static_shape()
            .ok_or_else(|| self.error("constants must have static shapes"))?;
        let t = HostTensor::new(ty.element_type, shape, bytes)
            .map_err(|e| self.error(&e.to_string()))?;
        Ok((id, t))
    }
}

/// Parses the inside of `tensor<…>`: `2x{batch}x3xf32` or `f32`.
pub fn parse_type_body(body: &str) -> Option<TensorType> {
    let mut dims = vec![];
    let mut rest = body.trim();
    loop {
        if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}')?;
            dims.push(Dim::from_expr(SymExpr::parse(&r[..end]).ok()?)?);
            rest = r[end + 1..].strip_prefix('x')?;
        } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            dims.push(Dim::Static(rest[..end].parse().ok()?));
            rest = rest[end..].strip_prefix('x')?;
        } else {
            let element_type = ElementType::from_name(rest)?;
            return Some(TensorType { element_type, dims });
        }
    }
}
