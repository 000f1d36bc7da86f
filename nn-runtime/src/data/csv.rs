//! CSV files: one sample per record, its features and its target in
//! columns.
//!
//! [`read_classes`] reads a column of class labels with the features into a
//! [`Dataset<LEN>`]; [`read_regression`] one or more columns of float targets
//! into a [`Dataset<LEN, f32>`], and [`read_multi_label`] columns of 0/1
//! targets. [`CsvOptions`] say which column is the target (by header name or
//! by index), which are the features (by default every other one, in file
//! order), whether the first row is a header and the delimiter, much as
//! `pandas.read_csv` and the `csv` crate's `ReaderBuilder` do:
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::data::csv::{self, CsvOptions, Labels};
//! use std::io::Write;
//!
//! let mut file = tempfile::NamedTempFile::new()?;
//! writeln!(file, "sepal_length,sepal_width,petal_length,petal_width,species")?;
//! writeln!(file, "5.1,3.5,1.4,0.2,setosa")?;
//! writeln!(file, "7.0,3.2,4.7,1.4,versicolor")?;
//! writeln!(file, "6.3,3.3,6.0,2.5,virginica")?;
//! writeln!(file, "4.9,3.0,1.4,0.2,setosa")?;
//!
//! // The label column by name, its texts mapped to classes in sorted order;
//! // the four other columns are the features.
//! let options = CsvOptions::new("species").labels(Labels::Names);
//! let (data, classes) = csv::read_classes::<4>(file.path(), &options)?;
//! assert_eq!(classes, ["setosa", "versicolor", "virginica"]);
//! assert_eq!(data.labels(), &[0, 1, 2, 0]);
//! assert_eq!(data.input(1), &[7.0, 3.2, 4.7, 1.4]);
//!
//! // The petal width predicted from the first three columns (by index).
//! let options = CsvOptions::new("petal_width").features(0..3);
//! let widths = csv::read_regression::<3>(file.path(), &options)?;
//! assert_eq!(widths.targets(), &[0.2, 1.4, 2.5, 0.2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Records are counted from 0, after the header (record `i` is sample `i`),
//! columns from 0; messages give both the record and its line in the file
//! (from 1). Fields are trimmed of white space and may be quoted
//! (`"1.5"`); a UTF-8 byte-order mark at the start is skipped, and empty
//! lines are ignored. A number is what [`str::parse`] reads as a finite
//! `f32` (`1`, `-0.5`, `2e-3`): an empty field, `NA`, `nan`, `inf` or
//! `1e39` is an error (fill in or drop missing values first).
//!
//! Every failure is a [`DataError`]: [`DataError::Io`] for a file that
//! cannot be read, [`DataError::Invalid`] for options that contradict
//! themselves (before the file is opened), and [`DataError::Format`] naming
//! the file, then the record, line and column, the text found and what was
//! expected. Memory grows with the file's length and the records read,
//! never from a number in the file, but for one: with [`Labels::Indices`],
//! the largest label sets the number of classes, and so the length of the
//! class names returned; it is below [`MAX_CLASSES`].

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use ::csv::{ByteRecord, ReaderBuilder, Trim};

use super::{plural, DataError, Dataset};

/// The most classes [`Labels::Indices`] accepts: a label is at most
/// `MAX_CLASSES − 1`.
pub const MAX_CLASSES: usize = 1 << 16;

/// A column of a CSV file: by its name in the header, or by its index.
///
/// `"y".into()` and `3.into()` make one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// The column whose header is this name (the file must have a header,
    /// and the name must be there once).
    Name(String),
    /// The column at this index, counting from 0, header or not.
    Index(usize),
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Name(name) => write!(f, "column `{name}`"),
            Column::Index(index) => write!(f, "column {index}"),
        }
    }
}

/// How [`read_classes`] turns the texts of the label column into classes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Labels {
    /// Class indices: whole numbers 0, 1, 2, …; the classes are 0 to the
    /// largest label found (below [`MAX_CLASSES`]), named `"0"`, `"1"`, ….
    #[default]
    Indices,
    /// Class names: any text (not empty); the distinct names found, sorted
    /// (byte order: `"10"` comes before `"9"`), are the classes 0, 1, 2, ….
    Names,
    /// These class names, class `i` being the name at `i`: a label that is
    /// not one of them is an error. To read a test file with the classes of
    /// its training file, whether or not it holds every class.
    Known(Vec<String>),
}

/// Which columns of a CSV file hold what, and how the file is laid out.
///
/// [`CsvOptions::new`] names the target column; the other settings have
/// defaults (a header row, commas, every other column a feature, labels
/// that are class indices) that the methods of the same names change:
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::data::csv::{Column, CsvOptions, Labels};
///
/// // pandas.read_csv(path, sep=";", header=None), the label in column 0
/// let options = CsvOptions::new(0).has_header(false).delimiter(b';');
/// assert_eq!(options.features, None);
///
/// // two targets by name, three features by name and one by index
/// let options = CsvOptions::new("x")
///     .targets(["dx", "dy"])
///     .features([Column::from("a"), "b".into(), "c".into(), Column::Index(7)]);
/// assert_eq!(options.targets, [Column::from("dx"), Column::from("dy")]);
///
/// let options = CsvOptions::new("species").labels(Labels::Names);
/// # let _ = options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first row names the columns (default `true`). Without a
    /// header, columns are chosen by index.
    pub has_header: bool,
    /// The byte between fields (default `b','`; `b';'`, `b'\t'`, …).
    pub delimiter: u8,
    /// The target columns: exactly one, the label, for [`read_classes`];
    /// one or more for [`read_regression`] and [`read_multi_label`], a
    /// sample's targets in this order.
    pub targets: Vec<Column>,
    /// The feature columns, a sample's floats in this order; `None` (the
    /// default) for every column that is not a target, in file order.
    pub features: Option<Vec<Column>>,
    /// How [`read_classes`] reads the labels (default
    /// [`Labels::Indices`]); the other readers ignore it.
    pub labels: Labels,
}

impl CsvOptions {
    /// Options with `target` as the only target column, a header row,
    /// commas, every other column a feature and labels that are class
    /// indices.
    pub fn new(target: impl Into<Column>) -> Self {
        CsvOptions {
            has_header: true,
            delimiter: b',',
            targets: vec![target.into()],
            features: None,
            labels: Labels::Indices,
        }
    }

    /// Whether the first row names the columns.
    pub fn has_header(self, has_header: bool) -> Self {
        CsvOptions { has_header, ..self }
    }

    /// The byte between fields.
    pub fn delimiter(self, delimiter: u8) -> Self {
        CsvOptions { delimiter, ..self }
    }

    /// These target columns, in this order, instead of the ones given so far.
    pub fn targets<C: Into<Column>>(self, targets: impl IntoIterator<Item = C>) -> Self {
        CsvOptions {
            targets: targets.into_iter().map(Into::into).collect(),
            ..self
        }
    }

    /// These feature columns, in this order (a range of indices works:
    /// `.features(1..5)`).
    pub fn features<C: Into<Column>>(self, features: impl IntoIterator<Item = C>) -> Self {
        CsvOptions {
            features: Some(features.into_iter().map(Into::into).collect()),
            ..self
        }
    }

    /// How labels become classes.
    pub fn labels(self, labels: Labels) -> Self {
        CsvOptions { labels, ..self }
    }

    /// The contradictions that need no file: no target, a name without a
    /// header, a column chosen twice by the same name or index.
    fn check(&self, reader: &str) -> Result<(), DataError> {
        let invalid = |message: String| Err(DataError::Invalid { message });
        if self.targets.is_empty() {
            return invalid(format!("{reader}: no target column given"));
        }
        let features = self.features.as_deref().unwrap_or_default();
        if !self.has_header {
            if let Some(name) =
                (self.targets.iter().chain(features)).find(|c| matches!(c, Column::Name(_)))
            {
                return invalid(format!(
                    "{reader}: {name} is chosen by name but `has_header` is false (without a \
                     header, choose columns by index)"
                ));
            }
        }
        if let Labels::Known(names) = &self.labels {
            if names.is_empty() {
                return invalid(format!("{reader}: `Labels::Known` with no class names"));
            }
            let mut sorted: Vec<&String> = names.iter().collect();
            sorted.sort();
            if let Some(twice) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return invalid(format!(
                    "{reader}: `Labels::Known` names the class `{}` twice",
                    twice[0]
                ));
            }
        }
        Ok(())
    }
}

/// Reads a CSV file of class labels: the one target column holds each
/// sample's label, read as [`CsvOptions::labels`] says; the feature columns
/// (exactly `LEN` of them) its floats.
///
/// Returns the data set and the class names, class `i` being the name at
/// `i` (for [`Labels::Indices`], `"0"`, `"1"`, …).
///
/// Fails with [`DataError::Invalid`] if the options contradict themselves or
/// give more than one target, [`DataError::Io`] if the file cannot be read,
/// and [`DataError::Format`] if it is empty or has no records, a column is
/// not there or is chosen twice, the features are not `LEN` columns, a
/// record has another number of fields than the header (or the first
/// record), a feature is not a finite number, or a label is not what
/// [`Labels`] expects.
pub fn read_classes<const LEN: usize>(
    path: &Path,
    options: &CsvOptions,
) -> Result<(Dataset<LEN>, Vec<String>), DataError> {
    options.check("read_classes")?;
    if options.targets.len() != 1 {
        return Err(DataError::Invalid {
            message: format!(
                "read_classes: one label column is needed, but {} targets were given ({})",
                options.targets.len(),
                options
                    .targets
                    .iter()
                    .map(Column::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let mut classes = ClassReader::new(&options.labels);
    let mut labels = Vec::new();
    let inputs = read_table::<LEN>(path, options, |field| {
        labels.push(classes.label(field)?);
        Ok(())
    })?;
    let (labels, names) = classes.finish(labels);
    let data = Dataset::new(inputs, labels, names.len())?;
    Ok((data, names))
}

/// Reads a CSV file of float targets: a sample's targets are the values of
/// the target columns, in their order (the data set's width is their
/// number), its floats the feature columns (exactly `LEN` of them).
/// [`CsvOptions::labels`] is not used.
///
/// Fails as [`read_classes`] does, and if a target is not a finite number.
pub fn read_regression<const LEN: usize>(
    path: &Path,
    options: &CsvOptions,
) -> Result<Dataset<LEN, f32>, DataError> {
    options.check("read_regression")?;
    let targets = read_targets::<LEN>(path, options, |_| true, "")?;
    Dataset::regression(targets.0, targets.1, options.targets.len())
}

/// Reads a CSV file of multi-label targets: each target column holds `0` or
/// `1`, whether that label applies to the sample (for
/// [`SigmoidBinaryCrossEntropy`](crate::loss::SigmoidBinaryCrossEntropy));
/// otherwise as [`read_regression`].
///
/// Fails as [`read_regression`] does, and if a target is neither 0 nor 1.
pub fn read_multi_label<const LEN: usize>(
    path: &Path,
    options: &CsvOptions,
) -> Result<Dataset<LEN, f32>, DataError> {
    options.check("read_multi_label")?;
    let targets = read_targets::<LEN>(
        path,
        options,
        |v| v == 0.0 || v == 1.0,
        " is neither 0 nor 1 (expected a multi-label target)",
    )?;
    Dataset::multi_label(targets.0, targets.1, options.targets.len())
}

/// The inputs and the float targets of a table, every target a finite
/// number that passes `accept` (else the error is its text and `refused`).
fn read_targets<const LEN: usize>(
    path: &Path,
    options: &CsvOptions,
    accept: impl Fn(f32) -> bool,
    refused: &str,
) -> Result<(Vec<f32>, Vec<f32>), DataError> {
    let mut targets = Vec::new();
    let inputs = read_table::<LEN>(path, options, |field| {
        let value = number(field)?;
        if !accept(value) {
            return Err(format!("{}{refused}", quoted(field)));
        }
        targets.push(value);
        Ok(())
    })?;
    Ok((inputs, targets))
}

/// Reads the table at `path`: returns the features of every record, after
/// giving each of its target fields, in order, to `target` (whose error is
/// the end of a message about that field).
fn read_table<const LEN: usize>(
    path: &Path,
    options: &CsvOptions,
    mut target: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<Vec<f32>, DataError> {
    let io_error = |source: io::Error| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    let bytes = fs::read(path).map_err(io_error)?;
    // the byte-order mark spreadsheets write is not part of the first field
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .delimiter(options.delimiter)
        .from_reader(text);
    let mut record = ByteRecord::new();
    let mut next = |record: &mut ByteRecord| {
        reader.read_byte_record(record).map_err(|e| {
            let text = e.to_string();
            match e.into_kind() {
                ::csv::ErrorKind::Io(source) => io_error(source),
                _ => format(text),
            }
        })
    };

    if !next(&mut record)? {
        let expected = match options.has_header {
            true => "a header row, then one record per sample",
            false => "one record per sample",
        };
        return Err(format(format!("the file is empty (expected {expected})")));
    }
    let header = match options.has_header {
        true => {
            let header = record.clone();
            if !next(&mut record)? {
                return Err(format(
                    "the file has a header but no records (expected one record per sample \
                     after the header)"
                        .to_string(),
                ));
            }
            Some(header)
        }
        false => None,
    };
    let layout = Layout::new(options, header.as_ref(), record.len(), LEN).map_err(format)?;

    let mut inputs = Vec::new();
    let mut count = 0usize;
    loop {
        let at = |message: String| {
            let line = line_of(text, &record);
            format(format!("record {count} (line {line}){message}"))
        };
        if record.len() != layout.fields {
            return Err(at(format!(
                " has {}, expected {} as {} has",
                plural(record.len(), "field"),
                layout.fields,
                layout.counted
            )));
        }
        for &c in &layout.features {
            let value = number(&record[c])
                .map_err(|message| at(format!(", {}: {message}", layout.name(c))))?;
            inputs.push(value);
        }
        for &c in &layout.targets {
            target(&record[c]).map_err(|message| at(format!(", {}: {message}", layout.name(c))))?;
        }
        count += 1;
        if !next(&mut record)? {
            return Ok(inputs);
        }
    }
}

/// The line (from 1) where `record` of `text` starts. (The reader counts
/// from the end of the record before, which is another line when empty
/// lines come between.)
fn line_of(text: &[u8], record: &ByteRecord) -> u64 {
    let after = record.position().map_or(0, |p| p.byte()) as usize;
    let start = after
        + (text.get(after..).unwrap_or_default())
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
    let before = text.get(..start).unwrap_or(text);
    1 + before.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Where a table's features and targets are.
struct Layout {
    /// Fields per record.
    fields: usize,
    /// What set the number of fields: "the header" or "the first record".
    counted: &'static str,
    /// The header's names, if there is a header.
    names: Option<Vec<String>>,
    features: Vec<usize>,
    targets: Vec<usize>,
}

impl Layout {
    /// Resolves the columns of `options` for records of `fields` fields
    /// (the header's, or the first record's), and checks that there are
    /// `len` features and no column is chosen twice. The error is the
    /// message.
    fn new(
        options: &CsvOptions,
        header: Option<&ByteRecord>,
        fields: usize,
        len: usize,
    ) -> Result<Self, String> {
        let (fields, counted) = match header {
            Some(header) => (header.len(), "the header"),
            None => (fields, "the first record"),
        };
        let mut layout = Layout {
            fields,
            counted,
            names: header.map(|h| {
                h.iter()
                    .map(|n| String::from_utf8_lossy(n).into())
                    .collect()
            }),
            features: Vec::new(),
            targets: Vec::new(),
        };
        for column in &options.targets {
            let c = layout.resolve(column)?;
            layout.targets.push(c);
        }
        let how = match &options.features {
            Some(features) => {
                for column in features {
                    let c = layout.resolve(column)?;
                    layout.features.push(c);
                }
                "as chosen".to_string()
            }
            None => {
                layout.features = (0..fields)
                    .filter(|c| !layout.targets.contains(c))
                    .collect();
                let targets: Vec<String> =
                    layout.targets.iter().map(|&c| layout.label(c)).collect();
                match targets.len() {
                    1 => format!("every column but the target {}", targets[0]),
                    _ => format!("every column but the targets {}", targets.join(", ")),
                }
            }
        };
        let chosen = (layout.targets.iter().map(|&c| (c, "a target")))
            .chain(layout.features.iter().map(|&c| (c, "a feature")));
        let mut roles: HashMap<usize, &str> = HashMap::new();
        for (c, role) in chosen {
            if let Some(first) = roles.insert(c, role) {
                return Err(format!(
                    "{} is chosen twice, as {first} and as {role}",
                    layout.name(c)
                ));
            }
        }
        if layout.features.len() != len {
            return Err(format!(
                "{} ({how}), expected {len}, the data set's sample length",
                plural(layout.features.len(), "feature column")
            ));
        }
        Ok(layout)
    }

    /// The index of `column`.
    fn resolve(&self, column: &Column) -> Result<usize, String> {
        match column {
            &Column::Index(c) if c < self.fields => Ok(c),
            &Column::Index(c) => Err(format!(
                "column {c} does not exist: {} has {} (columns 0 to {})",
                self.counted,
                plural(self.fields, "field"),
                self.fields.saturating_sub(1)
            )),
            Column::Name(name) => {
                // `CsvOptions::check` refused names without a header
                let names = self.names.as_deref().unwrap_or_default();
                let found: Vec<usize> = (0..names.len()).filter(|&c| names[c] == *name).collect();
                match found[..] {
                    [c] => Ok(c),
                    [] => Err(format!(
                        "no column named {} in the header ({})",
                        quoted(name.as_bytes()),
                        names_text(names)
                    )),
                    [a, b, ..] => Err(format!(
                        "the header names {} twice (columns {a} and {b})",
                        quoted(name.as_bytes())
                    )),
                }
            }
        }
    }

    /// `column `name`` or `column 3`, for messages.
    fn name(&self, c: usize) -> String {
        format!("column {}", self.label(c))
    }

    /// `` `name` `` if the header names column `c`, else its index.
    fn label(&self, c: usize) -> String {
        match self.names.as_ref().map(|names| names[c].as_str()) {
            Some(name) if !name.is_empty() => quoted(name.as_bytes()),
            _ => c.to_string(),
        }
    }
}

/// The header's names, for a message: the first twenty, quoted.
fn names_text(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| quoted(n.as_bytes()))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// A field as a message shows it: quoted, cut after 40 characters.
fn quoted(field: &[u8]) -> String {
    const SHOWN: usize = 40;
    let text = String::from_utf8_lossy(field);
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// A field read as a number: finite, and within an f32's range. The error
/// says what the field holds instead.
fn number(field: &[u8]) -> Result<f32, String> {
    if field.is_empty() {
        return Err("the field is empty (expected a number)".to_string());
    }
    let text = std::str::from_utf8(field).ok();
    match text.and_then(|t| t.parse::<f32>().ok()) {
        Some(v) if v.is_finite() => Ok(v),
        // "1e39" is a finite f64 but not an f32
        Some(_)
            if text
                .and_then(|t| t.parse::<f64>().ok())
                .is_some_and(f64::is_finite) =>
        {
            Err(format!(
                "{} is beyond the range of an f32 (±{:e})",
                quoted(field),
                f32::MAX
            ))
        }
        Some(_) => Err(format!("{} is not a finite number", quoted(field))),
        None => Err(format!("{} is not a number", quoted(field))),
    }
}

/// Turns label fields into classes, as [`Labels`] says.
struct ClassReader<'a> {
    labels: &'a Labels,
    /// For names: each name's number, in the order first seen (for
    /// [`Labels::Known`], its class).
    numbers: HashMap<String, u32>,
    /// The largest class index seen.
    largest: u32,
}

impl<'a> ClassReader<'a> {
    fn new(labels: &'a Labels) -> Self {
        let numbers = match labels {
            Labels::Known(names) => (names.iter().cloned()).zip(0..).collect(),
            _ => HashMap::new(),
        };
        ClassReader {
            labels,
            numbers,
            largest: 0,
        }
    }

    /// The number of the label in `field`: its class, or for
    /// [`Labels::Names`] the order it was first seen in (`finish` sorts
    /// them). The error says what the field holds instead.
    fn label(&mut self, field: &[u8]) -> Result<u32, String> {
        let expected = match self.labels {
            Labels::Indices => "a class index",
            _ => "a class name",
        };
        if field.is_empty() {
            return Err(format!("the field is empty (expected {expected})"));
        }
        let Ok(text) = std::str::from_utf8(field) else {
            return Err(format!(
                "{} is not UTF-8 text (expected {expected})",
                quoted(field)
            ));
        };
        match self.labels {
            Labels::Indices => {
                let index = match text.parse::<u32>() {
                    Ok(index) if (index as usize) < MAX_CLASSES => index,
                    Err(e) if *e.kind() != std::num::IntErrorKind::PosOverflow => {
                        return Err(format!(
                            "{} is not a class index (expected a whole number from 0; for \
                             labels that are names, use `Labels::Names`)",
                            quoted(field)
                        ))
                    }
                    _ => {
                        return Err(format!(
                            "{} is not below {MAX_CLASSES}, the most classes `Labels::Indices` \
                             reads",
                            quoted(field)
                        ))
                    }
                };
                self.largest = self.largest.max(index);
                Ok(index)
            }
            Labels::Names => {
                let next = self.numbers.len() as u32;
                Ok(*self.numbers.entry(text.to_string()).or_insert(next))
            }
            Labels::Known(names) => self.numbers.get(text).copied().ok_or_else(|| {
                format!(
                    "{} is not one of the {} known classes ({})",
                    quoted(field),
                    names.len(),
                    names_text(names)
                )
            }),
        }
    }

    /// The labels as classes, and the class names.
    fn finish(self, mut labels: Vec<u32>) -> (Vec<u32>, Vec<String>) {
        match self.labels {
            Labels::Indices => (labels, (0..=self.largest).map(|i| i.to_string()).collect()),
            Labels::Known(names) => (labels, names.clone()),
            Labels::Names => {
                let mut names: Vec<(String, u32)> = self.numbers.into_iter().collect();
                names.sort_unstable();
                // class[number first seen] = place in sorted order
                let mut class = vec![0; names.len()];
                for (place, (_, number)) in names.iter().enumerate() {
                    class[*number as usize] = place as u32;
                }
                labels.iter_mut().for_each(|l| *l = class[*l as usize]);
                (labels, names.into_iter().map(|(name, _)| name).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The message of a `Format` error for `path`, checking that the
    /// error's text is the path, then the message.
    fn format_error<T: fmt::Debug>(path: &Path, result: Result<T, DataError>) -> String {
        let err = result.unwrap_err();
        let text = err.to_string();
        match err {
            DataError::Format { path: p, message } => {
                assert_eq!(p, path);
                assert_eq!(text, format!("{}: {message}", path.display()));
                message
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    fn invalid<T: fmt::Debug>(result: Result<T, DataError>) -> String {
        match result {
            Err(DataError::Invalid { message }) => message,
            other => panic!("expected DataError::Invalid, got {other:?}"),
        }
    }

    const IRIS: &str = "\
sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
";

    #[test]
    fn class_indices_names_and_known_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "digits.csv", "label,a,b\n3,0.5,1\n0,2,3\n3,4,5\n");
        let (data, names) = read_classes::<2>(&path, &CsvOptions::new("label")).unwrap();
        assert_eq!(data.labels(), &[3, 0, 3]);
        assert_eq!(data.classes(), 4);
        assert_eq!(names, ["0", "1", "2", "3"]);
        assert_eq!(data.inputs(), &[0.5, 1.0, 2.0, 3.0, 4.0, 5.0]);

        let path = file(&dir, "iris.csv", IRIS);
        let options = CsvOptions::new(4).labels(Labels::Names);
        let (data, names) = read_classes::<4>(&path, &options).unwrap();
        assert_eq!(names, ["setosa", "versicolor", "virginica"]);
        assert_eq!(data.labels(), &[0, 1, 2, 0]);
        assert_eq!(data.input(2), &[6.3, 3.3, 6.0, 2.5]);

        // a test file's classes as the training file's, one of them absent
        let known = vec!["virginica".into(), "setosa".into(), "other".into()];
        let path = file(&dir, "test.csv", "x,species\n1,setosa\n2,virginica\n");
        let options = CsvOptions::new("species").labels(Labels::Known(known.clone()));
        let (data, names) = read_classes::<1>(&path, &options).unwrap();
        assert_eq!(names, known);
        assert_eq!(data.labels(), &[1, 0]);
        assert_eq!(data.classes(), 3);
    }

    #[test]
    fn names_sort_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "q.csv", "x,q\n1,9\n2,10\n3,b\n4,9\n5,B\n");
        let options = CsvOptions::new("q").labels(Labels::Names);
        let (data, names) = read_classes::<1>(&path, &options).unwrap();
        assert_eq!(names, ["10", "9", "B", "b"]);
        assert_eq!(data.labels(), &[1, 0, 3, 1, 2]);
    }

    #[test]
    fn regression_and_multi_label_targets() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(
            &dir,
            "r.csv",
            "dy,x0,dx,x1,x2\n1,2,3,4,5\n-1,0.5,2e-3,1,0\n",
        );
        let options = CsvOptions::new("dx").targets(["dx", "dy"]);
        let data = read_regression::<3>(&path, &options).unwrap();
        assert_eq!(data.width(), 2);
        assert_eq!(data.targets(), &[3.0, 1.0, 2e-3, -1.0]);
        assert_eq!(data.inputs(), &[2.0, 4.0, 5.0, 0.5, 1.0, 0.0]);
        // features chosen by index, in the order given
        let options = options.features([4, 1]);
        let data = read_regression::<2>(&path, &options).unwrap();
        assert_eq!(data.inputs(), &[5.0, 2.0, 0.0, 0.5]);

        let path = file(&dir, "m.csv", "a,b,x\n1,0,7\n1,1,8\n");
        let options = CsvOptions::new("a").targets(["a", "b"]);
        let data = read_multi_label::<1>(&path, &options).unwrap();
        assert_eq!(data.targets(), &[1.0, 0.0, 1.0, 1.0]);
        let path = file(&dir, "m2.csv", "a,b,x\n1,0,7\n1,0.5,8\n");
        assert_eq!(
            format_error(&path, read_multi_label::<1>(&path, &options)),
            "record 1 (line 3), column `b`: `0.5` is neither 0 nor 1 (expected a multi-label \
             target)"
        );
    }

    #[test]
    fn layouts_without_header_other_delimiters_quotes_and_spaces() {
        let dir = tempfile::tempdir().unwrap();
        let text = "\u{feff}1; 0.5 ;\"2\"\r\n\r\n0;-3;  4e1\r\n";
        let path = file(&dir, "semi.csv", text);
        let options = CsvOptions::new(0).has_header(false).delimiter(b';');
        let (data, _) = read_classes::<2>(&path, &options).unwrap();
        assert_eq!(data.labels(), &[1, 0]);
        assert_eq!(data.inputs(), &[0.5, 2.0, -3.0, 40.0]);
        // with a header, the byte-order mark is not part of the first name
        let path = file(&dir, "bom.csv", "\u{feff}y\tx\n1\t2\n");
        let options = CsvOptions::new("y").delimiter(b'\t');
        let data = read_regression::<1>(&path, &options).unwrap();
        assert_eq!(data.targets(), &[1.0]);
    }

    #[test]
    fn records_and_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "short.csv", "a,b,y\n1,2,0\n\n3,4\n");
        assert_eq!(
            format_error(&path, read_classes::<2>(&path, &CsvOptions::new("y"))),
            "record 1 (line 4) has 2 fields, expected 3 as the header has"
        );
        let path = file(&dir, "long.csv", "1,2,0\n3,4,1,9\n");
        let options = CsvOptions::new(2).has_header(false);
        assert_eq!(
            format_error(&path, read_classes::<2>(&path, &options)),
            "record 1 (line 2) has 4 fields, expected 3 as the first record has"
        );
        // lines count empty lines and the lines inside quoted fields
        let path = file(&dir, "lines.csv", "a,b\r\n\"x\ny\",1\r\n\r\n\n2,zz\n");
        let options = CsvOptions::new("a").labels(Labels::Names);
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &options)),
            "record 1 (line 6), column `b`: `zz` is not a number"
        );
    }

    #[test]
    fn values_that_are_not_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("1,abc,0", "column `b`: `abc` is not a number"),
            ("1,,0", "column `b`: the field is empty (expected a number)"),
            ("NaN,1,0", "column `a`: `NaN` is not a finite number"),
            ("1,-inf,0", "column `b`: `-inf` is not a finite number"),
            (
                "1e39,1,0",
                "column `a`: `1e39` is beyond the range of an f32 (±3.4028235e38)",
            ),
            ("1,2,4.5", "column `y`: `4.5` is not a finite number"),
        ];
        for (k, (record, message)) in cases.iter().enumerate() {
            let path = file(
                &dir,
                &format!("{k}.csv"),
                &format!("a,b,y\n0,0,0\n{record}\n"),
            );
            let result = read_regression::<2>(&path, &CsvOptions::new("y"));
            if k == 5 {
                // a float target is fine; as a class label it is not
                assert!(result.is_ok());
                let err = format_error(&path, read_classes::<2>(&path, &CsvOptions::new("y")));
                assert_eq!(
                    err,
                    "record 1 (line 3), column `y`: `4.5` is not a class index (expected a \
                     whole number from 0; for labels that are names, use `Labels::Names`)"
                );
                continue;
            }
            assert_eq!(
                format_error(&path, result),
                format!("record 1 (line 3), {message}")
            );
        }
        // without a header, a column is its index; long text is cut
        let long = "x".repeat(100);
        let path = file(&dir, "long.csv", &format!("1,{long}\n"));
        let options = CsvOptions::new(0).has_header(false);
        assert_eq!(
            format_error(&path, read_regression::<1>(&path, &options)),
            format!(
                "record 0 (line 1), column 1: `{}…` is not a number",
                &long[..40]
            )
        );
    }

    #[test]
    fn labels_out_of_reach() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "big.csv", "y,x\n65536,1\n");
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &CsvOptions::new("y"))),
            "record 0 (line 2), column `y`: `65536` is not below 65536, the most classes \
             `Labels::Indices` reads"
        );
        let path = file(&dir, "huge.csv", "y,x\n99999999999999999999,1\n");
        assert!(
            format_error(&path, read_classes::<1>(&path, &CsvOptions::new("y")))
                .ends_with("is not below 65536, the most classes `Labels::Indices` reads")
        );
        let path = file(&dir, "neg.csv", "y,x\n-1,1\n");
        assert!(
            format_error(&path, read_classes::<1>(&path, &CsvOptions::new("y")))
                .contains("`-1` is not a class index")
        );
        let path = file(&dir, "unknown.csv", "y,x\ncat,1\nemu,2\n");
        let options = CsvOptions::new("y").labels(Labels::Known(vec!["cat".into(), "dog".into()]));
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &options)),
            "record 1 (line 3), column `y`: `emu` is not one of the 2 known classes (`cat`, \
             `dog`)"
        );
        let path = file(&dir, "empty-label.csv", "y,x\n,1\n");
        let options = CsvOptions::new("y").labels(Labels::Names);
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &options)),
            "record 0 (line 2), column `y`: the field is empty (expected a class name)"
        );
    }

    #[test]
    fn columns_that_do_not_fit() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "iris.csv", IRIS);
        assert_eq!(
            format_error(&path, read_classes::<3>(&path, &CsvOptions::new("species"))),
            "4 feature columns (every column but the target `species`), expected 3, the data \
             set's sample length"
        );
        let options = CsvOptions::new("species").features([0, 1]);
        assert_eq!(
            format_error(&path, read_classes::<4>(&path, &options)),
            "2 feature columns (as chosen), expected 4, the data set's sample length"
        );
        let options = CsvOptions::new("sepal_width").targets(["sepal_width", "petal_width"]);
        assert_eq!(
            format_error(&path, read_regression::<2>(&path, &options)),
            "3 feature columns (every column but the targets `sepal_width`, `petal_width`), \
             expected 2, the data set's sample length"
        );
        assert_eq!(
            format_error(&path, read_classes::<4>(&path, &CsvOptions::new("Species"))),
            "no column named `Species` in the header (`sepal_length`, `sepal_width`, \
             `petal_length`, `petal_width`, `species`)"
        );
        assert_eq!(
            format_error(&path, read_classes::<4>(&path, &CsvOptions::new(5))),
            "column 5 does not exist: the header has 5 fields (columns 0 to 4)"
        );
        let options = CsvOptions::new(4).features([0, 1, 2, 4]);
        assert_eq!(
            format_error(&path, read_classes::<4>(&path, &options)),
            "column `species` is chosen twice, as a target and as a feature"
        );
        let path = file(&dir, "twice.csv", "a,b,a\n1,2,3\n");
        assert_eq!(
            format_error(&path, read_regression::<2>(&path, &CsvOptions::new("a"))),
            "the header names `a` twice (columns 0 and 2)"
        );
    }

    #[test]
    fn empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "empty.csv", "");
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &CsvOptions::new(0))),
            "the file is empty (expected a header row, then one record per sample)"
        );
        let options = CsvOptions::new(0).has_header(false);
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &options)),
            "the file is empty (expected one record per sample)"
        );
        let path = file(&dir, "header.csv", "x,y\n\n");
        assert_eq!(
            format_error(&path, read_classes::<1>(&path, &CsvOptions::new("y"))),
            "the file has a header but no records (expected one record per sample after the \
             header)"
        );
        let path = dir.path().join("absent.csv");
        let err = read_classes::<1>(&path, &CsvOptions::new("y")).unwrap_err();
        assert!(
            matches!(&err, DataError::Io { path: p, source }
                if *p == path && source.kind() == io::ErrorKind::NotFound),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("{}: cannot read the file: ", path.display())));
    }

    #[test]
    fn options_that_contradict_themselves() {
        let path = Path::new("never-opened.csv");
        assert_eq!(
            invalid(read_regression::<1>(
                path,
                &CsvOptions::new(0).targets(Vec::<usize>::new())
            )),
            "read_regression: no target column given"
        );
        assert_eq!(
            invalid(read_regression::<1>(
                path,
                &CsvOptions::new("y").has_header(false)
            )),
            "read_regression: column `y` is chosen by name but `has_header` is false (without \
             a header, choose columns by index)"
        );
        assert_eq!(
            invalid(read_classes::<1>(
                path,
                &CsvOptions::new("a").targets(["a", "b"])
            )),
            "read_classes: one label column is needed, but 2 targets were given (column `a`, \
             column `b`)"
        );
        let twice = Labels::Known(vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(
            invalid(read_classes::<1>(path, &CsvOptions::new(0).labels(twice))),
            "read_classes: `Labels::Known` names the class `a` twice"
        );
    }
}
