//! IREE-style flags (`--name=value` or `--name value`) for the runtime tools, read with
//! `lexopt`: `kiln-run-module` is meant to stay small, and an argument parser that generates
//! help and suggestions (clap) would be a tenth of it.
//!
//! A tool lists its flags once, as a table of [`FlagHelp`] rows: the table is both the
//! `--help` text and the documentation of each flag.
//!
//! ```
//! use kiln_tools::flags::{FlagHelp, Flags};
//!
//! let mut flags = Flags::from_args("tool", ["--count=3", "--name", "x"]);
//! let (mut count, mut name) = (0usize, String::new());
//! while let Some(flag) = flags.next_flag().unwrap() {
//!     match flag.as_str() {
//!         "count" => count = flags.number(&flag).unwrap(),
//!         "name" => name = flags.text(&flag).unwrap(),
//!         _ => panic!("{}", flags.unknown(&flag)),
//!     }
//! }
//! assert_eq!((count, name.as_str()), (3, "x"));
//! ```

use anyhow::{anyhow, bail, Result};
use std::ffi::OsString;
use std::fmt::Write;
use std::str::FromStr;

/// One line of a tool's `--help`: the flag, what its value looks like (empty for a switch),
/// and what it does.
pub struct FlagHelp {
    /// The name, without the leading `--`.
    pub name: &'static str,
    /// The value's shape (`FILE`, `N`), or empty for a switch.
    pub value: &'static str,
    /// What the flag does.
    pub text: &'static str,
}

/// `--module`, as the runtime tools take it.
pub const MODULE: FlagHelp = FlagHelp {
    name: "module",
    value: "FILE",
    text: "The module file",
};

/// `--device`, as the runtime tools take it.
pub const DEVICE: FlagHelp = FlagHelp {
    name: "device",
    value: "DEVICE",
    text: "The device: a driver name (`local-task`) or URI (`local-task://`). Without one, a \
           `vmvx-inline` module runs inline (no device) and any other on `local-task`",
};

/// `--task_topology_max_group_count`, as the runtime tools take it.
pub const TASK_TOPOLOGY_MAX_GROUP_COUNT: FlagHelp = FlagHelp {
    name: "task_topology_max_group_count",
    value: "N",
    text: "Worker threads of local-task (default: one per core)",
};

/// `--hal_driver_plugin`, as the runtime tools take it.
pub const HAL_DRIVER_PLUGIN: FlagHelp = FlagHelp {
    name: "hal_driver_plugin",
    value: "PATH",
    text: "Loads a HAL driver plugin (a shared library implementing kiln's driver plugin ABI) \
           before anything else. Repeat per plugin",
};

/// The `--help` text: `about`, then one row per flag.
pub fn help(tool: &str, about: &str, flags: &[FlagHelp]) -> String {
    let mut out = format!("{about}\n\nUsage: {tool} [--flag=value ...]\n\nFlags:\n");
    for f in flags {
        let spelled = match f.value {
            "" => format!("--{}", f.name),
            v => format!("--{}={v}", f.name),
        };
        let _ = writeln!(out, "  {spelled}\n      {}", f.text);
    }
    out.push_str(
        "  --help, -h\n      Prints this text\n  --version, -V\n      Prints the version\n",
    );
    out
}

/// The flags on a command line, one `--name` at a time; the caller reads each one's value.
pub struct Flags {
    tool: &'static str,
    parser: lexopt::Parser,
}

impl Flags {
    /// The process's own arguments.
    pub fn from_env(tool: &'static str) -> Flags {
        Flags {
            tool,
            parser: lexopt::Parser::from_env(),
        }
    }

    /// Given arguments (without the program name).
    pub fn from_args<I>(tool: &'static str, args: I) -> Flags
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        Flags {
            tool,
            parser: lexopt::Parser::from_args(args),
        }
    }

    /// The next flag's name (`-h` reads as `help`, `-V` as `version`), or `None` at the end.
    /// A positional argument is an error: every input is a flag.
    pub fn next_flag(&mut self) -> Result<Option<String>> {
        let arg = self.parser.next().map_err(|e| match e {
            lexopt::Error::UnexpectedValue { option, value } => anyhow!(
                "{option} takes no value (got {:?})",
                value.to_string_lossy()
            ),
            e => e.into(),
        })?;
        match arg {
            None => Ok(None),
            Some(lexopt::Arg::Long(name)) => Ok(Some(name.to_string())),
            Some(lexopt::Arg::Short('h')) => Ok(Some("help".into())),
            Some(lexopt::Arg::Short('V')) => Ok(Some("version".into())),
            Some(lexopt::Arg::Short(c)) => bail!(
                "unknown flag -{c}: {} takes --name=value flags (see --help)",
                self.tool
            ),
            Some(lexopt::Arg::Value(v)) => bail!(
                "unexpected argument {:?}: {} takes --name=value flags only (a module is \
                 --module=FILE; see --help)",
                v.to_string_lossy(),
                self.tool
            ),
        }
    }

    /// The value given to the flag just read: after its `=`, or else the next argument unless
    /// that is another flag (`--…`; a value such as `-1` is taken).
    fn value(&mut self) -> Result<Option<OsString>> {
        if let Some(value) = self.parser.optional_value() {
            return Ok(Some(value));
        }
        let next = self
            .parser
            .raw_args()?
            .next_if(|a| !a.to_string_lossy().starts_with("--"));
        Ok(next)
    }

    /// The value of `flag` as text.
    pub fn text(&mut self, flag: &str) -> Result<String> {
        match self.value()? {
            Some(value) => utf8(flag, value),
            None => bail!("--{flag} needs a value (--{flag}=...)"),
        }
    }

    /// The value of `flag` parsed as a number.
    pub fn number<T: FromStr>(&mut self, flag: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        let text = self.text(flag)?;
        text.parse()
            .map_err(|e| anyhow!("--{flag}: {text:?} is not a valid value: {e}"))
    }

    /// The value of `flag` when it was given one, for flags whose value is optional.
    pub fn optional_text(&mut self, flag: &str) -> Result<Option<String>> {
        self.value()?.map(|v| utf8(flag, v)).transpose()
    }

    /// The error for a flag the tool does not know.
    pub fn unknown(&self, flag: &str) -> anyhow::Error {
        anyhow!("unknown flag --{flag} (see {} --help)", self.tool)
    }
}

/// A flag's value as text, or an error naming the flag.
fn utf8(flag: &str, value: OsString) -> Result<String> {
    value
        .into_string()
        .map_err(|v| anyhow!("--{flag}: {:?} is not valid UTF-8", v.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(args: &[&str]) -> Result<Vec<(String, Option<String>)>> {
        let mut flags = Flags::from_args("tool", args.iter().copied());
        let mut out = Vec::new();
        while let Some(flag) = flags.next_flag()? {
            let value = match flag.as_str() {
                "switch" => None,
                "maybe" => flags.optional_text(&flag)?,
                "n" => Some(flags.number::<usize>(&flag)?.to_string()),
                "text" => Some(flags.text(&flag)?),
                _ => return Err(flags.unknown(&flag)),
            };
            out.push((flag, value));
        }
        Ok(out)
    }

    #[test]
    fn values_follow_an_equals_sign_or_come_next() {
        let args = [
            "--text=a=b",
            "--n",
            "7",
            "--switch",
            "--maybe",
            "--maybe=x",
            "--maybe",
            "y",
            "--text",
            "-1",
            "--maybe",
        ];
        let got = all(&args).unwrap();
        let want = [
            ("text", Some("a=b")),
            ("n", Some("7")),
            ("switch", None),
            ("maybe", None),
            ("maybe", Some("x")),
            ("maybe", Some("y")),
            ("text", Some("-1")),
            ("maybe", None),
        ];
        assert_eq!(got.len(), want.len());
        for ((name, value), (wname, wvalue)) in got.iter().zip(want) {
            assert_eq!((name.as_str(), value.as_deref()), (wname, wvalue));
        }
    }

    #[test]
    fn mistakes_name_the_flag_or_argument() {
        let message = |args: &[&str]| format!("{:#}", all(args).unwrap_err());
        assert_eq!(
            message(&["--nope"]),
            "unknown flag --nope (see tool --help)"
        );
        assert!(message(&["--n=x"]).starts_with("--n: \"x\" is not a valid value"));
        assert_eq!(message(&["--text"]), "--text needs a value (--text=...)");
        // A flag is not taken as the value of the one before it.
        assert_eq!(
            message(&["--text", "--n=1"]),
            "--text needs a value (--text=...)"
        );
        assert!(message(&["m.kiln"]).contains("unexpected argument \"m.kiln\""));
        assert_eq!(
            message(&["--switch=1"]),
            "--switch takes no value (got \"1\")"
        );
    }
}
