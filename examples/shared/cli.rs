// The examples' command-line options: `-h` or `--help` prints the usage and
// exits with 0; an unknown option, a missing value or one that does not
// parse prints the error and the usage to stderr and exits with 2.

use std::fmt::Display;
use std::str::FromStr;

/// The arguments after the program's name, read one option at a time.
pub struct Options {
    args: std::iter::Skip<std::env::Args>,
    usage: String,
}

impl Options {
    /// The next option, or `None` after the last; `-h` and `--help` print
    /// the usage and exit.
    pub fn next(&mut self) -> Option<String> {
        let option = self.args.next()?;
        if option == "-h" || option == "--help" {
            print!("{}", self.usage);
            std::process::exit(0);
        }
        Some(option)
    }

    /// The value that follows `option`, parsed.
    pub fn value<T: FromStr>(&mut self, option: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        let value = self.args.next().ok_or(format!("{option} needs a value"))?;
        value.parse().map_err(|e| format!("{option} {value}: {e}"))
    }
}

/// The error for an option that the usage does not list.
pub fn unknown(option: &str) -> String {
    format!("unknown argument `{option}`")
}

/// Reads the command line with `parse`, which takes the options one by one
/// from [`Options::next`] and their values from [`Options::value`]; on an
/// error, prints it and `usage` and exits with 2.
pub fn parse<T>(usage: String, parse: impl FnOnce(&mut Options) -> Result<T, String>) -> T {
    let mut options = Options {
        args: std::env::args().skip(1),
        usage,
    };
    match parse(&mut options) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprint!("error: {e}\n\n{}", options.usage);
            std::process::exit(2);
        }
    }
}
