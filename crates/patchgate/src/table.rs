//! Plain-text tables for human output: columns padded to their widest cell,
//! the last column left ragged, and cells cut to a maximum width with `…`.

/// A table under construction.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, each cell at most `max` characters wide.
    pub fn render(&self, max: usize) -> String {
        let cut = |s: &str| -> String {
            if s.chars().count() > max {
                let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
                t.push('…');
                t
            } else {
                s.to_string()
            }
        };
        // Headers are short and name the column: never cut them.
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.iter()
                    .map(|c| if i == 0 { c.clone() } else { cut(c) })
                    .collect()
            })
            .collect();
        let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|i| {
                cells
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &cells {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 < r.len() {
                    line.push_str(c);
                    line.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
                } else {
                    line.push_str(c);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_long_cells_are_cut() {
        let mut t = Table::new(&["ID", "SUBJECT"]);
        t.row(vec!["7".into(), "x".repeat(10)]);
        t.row(vec!["12".into(), "short".into()]);
        assert_eq!(t.render(6), "ID  SUBJECT\n7   xxxxx…\n12  short\n");
    }
}
